"""The one URL rule both roles validate with (valet.openstack.http_url)."""

import pytest

from ansible_collections.valet.openstack.plugins.module_utils.url import url_problem
from ansible_collections.valet.openstack.plugins.test.http_url import TestModule as HttpUrlTests


@pytest.mark.parametrize(
    'url',
    [
        'http://valet-api:8090/v1',
        'https://keystone/v3',
        'http://10.0.0.5',
        'http://[fd00::5]:8090/v1',
        'http://h:1',
        'http://h:65535/x?y=1',
    ],
)
def test_good(url):
    assert url_problem(url) is None
    assert HttpUrlTests().tests()['http_url'](url)


@pytest.mark.parametrize(
    'url,reason',
    [
        ('valet-api:8090/v1', 'scheme'),
        ('ftp://keystone/v3', 'scheme'),
        ('http://valet-api:70000/v1', '1-65535'),
        ('http://valet-api:0/v1', '1-65535'),
        ('http://valet-api:x/v1', '1-65535'),
        ('http:///v1', 'host'),
        ('http://u@h/v1', 'host'),
        ('http://h /v1', 'blanks'),
        ('', 'blanks'),
        (None, 'blanks'),
        (8090, 'blanks'),
    ],
)
def test_bad(url, reason):
    assert reason in url_problem(url)
    assert not HttpUrlTests().tests()['http_url'](url)
