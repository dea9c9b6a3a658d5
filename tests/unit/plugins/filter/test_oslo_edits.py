"""valet.openstack.oslo_edits: the data's entries into oslo_ini edits (an empty value is "not set")."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.valet.openstack.plugins.filter.oslo_edits import FilterModule
from ansible_collections.valet.openstack.plugins.filter.oslo_edits import oslo_edits


def test_registered_under_its_name():
    assert FilterModule().filters() == {'oslo_edits': oslo_edits}


def test_set_values_pass_unchanged():
    entry = {'section': 'valet', 'option': 'url', 'value': 'http://v:8090/v1'}
    listed = {'section': 'DEFAULT', 'option': 'plugin_dirs', 'kind': 'list', 'value': '/p', 'default': ['/a']}
    assert oslo_edits([entry, listed]) == [entry, listed]


def test_an_empty_scalar_is_an_absent_edit_without_the_other_keys():
    assert oslo_edits([{'section': 'valet', 'option': 'cafile', 'value': ''}]) == [
        {'section': 'valet', 'option': 'cafile', 'state': 'absent'}
    ]
    assert oslo_edits([{'section': 'valet', 'option': 'cafile', 'value': None}])[0]['state'] == 'absent'


def test_an_empty_list_member_or_multi_line_is_dropped():
    entries = [
        {'section': 'DEFAULT', 'option': 'plugin_dirs', 'kind': 'list', 'value': '', 'default': ['/a']},
        {'section': 'f', 'option': 'available_filters', 'kind': 'multi', 'value': ''},
    ]
    assert oslo_edits(entries) == []


def test_a_secret_without_value_takes_the_secret_value_or_goes():
    entry = {'section': 'valet', 'option': 'password', 'secret': True, 'value': ''}
    assert oslo_edits([entry], secret=True) == [{'section': 'valet', 'option': 'password', 'secret': True}]
    assert oslo_edits([entry]) == [{'section': 'valet', 'option': 'password', 'secret': True, 'state': 'absent'}]
    # a reference (kolla, osa) is a value: written as it is
    ref = dict(entry, value='{{ valet_keystone_password }}')
    assert oslo_edits([ref]) == [ref]


def test_an_entry_without_a_value_key_is_unchanged():
    retired = {'section': 'valet', 'option': 'admin_username', 'state': 'absent'}
    assert oslo_edits([retired]) == [retired]


@pytest.mark.parametrize('bad', ['text', [{'section': 'valet'}], ['x']])
def test_bad_input_names_the_filter(bad):
    with pytest.raises(AnsibleFilterError, match='oslo_edits'):
        oslo_edits(bad)
