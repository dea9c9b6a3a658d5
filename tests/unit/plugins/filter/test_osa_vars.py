"""valet.openstack.osa_vars: what Valet writes, mapped onto os_nova's / os_heat's variables."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.valet.openstack.plugins.filter.osa_vars import FilterModule
from ansible_collections.valet.openstack.plugins.filter.osa_vars import osa_vars

PKG = 'valet-openstack==1.3.0'
VALET = [
    {'section': 'valet', 'option': 'url', 'value': 'http://v:8090/v1'},
    {'section': 'valet', 'option': 'cafile', 'value': ''},
]
CONF = {
    'nova': [
        {
            'section': 'filter_scheduler',
            'option': 'available_filters',
            'kind': 'multi',
            'value': 'valet_os.nova.valet_filter.ValetFilter',
            'default': [],
        },
        {
            'section': 'filter_scheduler',
            'option': 'enabled_filters',
            'kind': 'list',
            'position': 'last',
            'value': 'ValetFilter',
            'default': [],
        },
    ],
    'heat': [
        {
            'section': 'DEFAULT',
            'option': 'plugin_dirs',
            'kind': 'list',
            'value': '/venv/etc/valet_os/heat',
            'default': ['/usr/lib/heat'],
        },
        {'section': 'DEFAULT', 'option': 'stack_scheduler_hints', 'value': 'True'},
    ],
    'valet': VALET,
    'password': [{'section': 'valet', 'option': 'password', 'secret': True, 'value': '{{ pw }}'}],
}
LINES = {'filter_scheduler/available_filters': "['nova.scheduler.filters.all_filters']"}


def test_registered_under_its_name():
    assert FilterModule().filters() == {'osa_vars': osa_vars}


def test_nova():
    out = osa_vars(CONF, 'nova', PKG, template_lines=LINES)
    assert out['nova_user_pip_packages'] == [PKG]
    assert out['nova_scheduler_extra_filters'] == ['ValetFilter']
    overrides = out['nova_nova_conf_overrides']
    # empty values are not set; the password is the reference as given
    assert overrides['valet'] == {'url': 'http://v:8090/v1', 'password': '{{ pw }}'}
    assert overrides['filter_scheduler']['available_filters'] == (
        "{{ dict((['nova.scheduler.filters.all_filters']) | union(['valet_os.nova.valet_filter.ValetFilter'])"
        " | product([none])) }}"
    )
    assert sorted(out) == ['nova_nova_conf_overrides', 'nova_scheduler_extra_filters', 'nova_user_pip_packages']


def test_heat_appends_to_os_heats_default_or_the_operators_list():
    out = osa_vars(CONF, 'heat', PKG)
    assert out['heat_plugin_dirs'] == ['/usr/lib/heat', '/venv/etc/valet_os/heat']
    assert out['heat_heat_conf_overrides']['DEFAULT'] == {'stack_scheduler_hints': 'True'}
    out = osa_vars(CONF, 'heat', PKG, merge={'heat_plugin_dirs': ['/srv/p', '/venv/etc/valet_os/heat']})
    assert out['heat_plugin_dirs'] == ['/srv/p', '/venv/etc/valet_os/heat']


def test_the_operators_values_are_merged_under_valets():
    merge = {
        'nova_nova_conf_overrides': {'DEFAULT': {'debug': True}, 'valet': {'url': 'http://old', 'extra': 1}},
        'nova_scheduler_extra_filters': ['ValetFilter', 'AggregateInstanceExtraSpecsFilter'],
        'nova_user_pip_packages': ['other', PKG],
    }
    out = osa_vars(CONF, 'nova', PKG, merge=merge, template_lines=LINES)
    assert out['nova_scheduler_extra_filters'] == ['AggregateInstanceExtraSpecsFilter', 'ValetFilter']
    assert out['nova_user_pip_packages'] == ['other', PKG]
    assert out['nova_nova_conf_overrides']['DEFAULT'] == {'debug': True}
    assert out['nova_nova_conf_overrides']['valet']['url'] == 'http://v:8090/v1'
    assert out['nova_nova_conf_overrides']['valet']['extra'] == 1
    assert merge['nova_nova_conf_overrides']['valet']['url'] == 'http://old'  # input untouched


def test_the_operators_available_filters_replace_the_templates_lines():
    merge = {'nova_nova_conf_overrides': {'filter_scheduler': {'available_filters': {'a.b.All': None}}}}
    out = osa_vars(CONF, 'nova', PKG, merge=merge, template_lines=LINES)
    assert out['nova_nova_conf_overrides']['filter_scheduler']['available_filters'] == {
        'a.b.All': None,
        'valet_os.nova.valet_filter.ValetFilter': None,
    }
    with pytest.raises(AnsibleFilterError, match='must be a set'):
        osa_vars(
            CONF, 'nova', PKG, merge={'nova_nova_conf_overrides': {'filter_scheduler': {'available_filters': 'x'}}}
        )


def test_without_template_lines_the_entrys_default_is_used():
    out = osa_vars(CONF, 'nova', PKG)
    assert out['nova_nova_conf_overrides']['filter_scheduler']['available_filters'] == {
        'valet_os.nova.valet_filter.ValetFilter': None
    }


@pytest.mark.parametrize(
    'args, match',
    [
        ((CONF, 'glance', PKG), 'component must be nova or heat'),
        (({'nova': []}, 'nova', PKG), 'expects the data'),
        ((CONF, 'nova', ''), 'pip_package'),
        (
            (dict(CONF, nova=[{'section': 's', 'option': 'o', 'kind': 'list', 'value': 'v'}]), 'nova', PKG),
            'no openstack-ansible variable renders nova',
        ),
    ],
)
def test_bad_input(args, match):
    with pytest.raises(AnsibleFilterError, match=match):
        osa_vars(*args)
