"""The one list of what Valet writes (roles/valet_openstack/vars/main/valet_conf.yml) against the options the
plugin package registers (valet_os.common.config): oslo.config ignores an unknown key, so a name that differs
would be silently lost in heat.conf / nova.conf. Both ways: every [valet] key written is a registered option,
and every option of Valet's own is written."""

import ast
import copy
import importlib.util
import os

import pytest
import yaml

from valet_os.common import config

DATA = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    '..',
    '..',
    '..',
    'roles',
    'valet_openstack',
    'vars',
    'main',
    'valet_conf.yml',
)


def load():
    with open(DATA) as handle:
        return yaml.safe_load(handle)['valet_openstack_conf']


def registered():
    """{option name: deprecated names} of [valet] as the plugins register it."""
    out = {}
    for group, opts in config.list_opts():
        assert group == config.GROUP
        for opt in opts:
            out[opt.dest] = {d.name for d in opt.deprecated_opts}
    return out


def check(data):
    """The tie, as a function, so the test below can show it fails on a renamed option."""
    options = registered()
    written = [e['option'] for e in data['valet'] + data['password']]
    assert all(e['section'] == 'valet' for e in data['valet'] + data['password'])
    assert len(written) == len(set(written)), written
    unknown = sorted(set(written) - set(options))
    assert not unknown, 'written to [valet] but not registered by valet_os.common.config: %s' % unknown
    own = {opt.dest for opt in config.OPTS}
    missing = sorted(own - set(written))
    assert not missing, 'registered by valet_os.common.config but never written: %s' % missing
    # The retired names go: each is a deprecated name of an option Valet writes now, never one itself.
    retired = {e['option'] for e in data['retired_valet']}
    assert not retired & set(options)
    deprecated = set().union(*(options[name] for name in written))
    assert retired <= deprecated, sorted(retired - deprecated)


def test_valet_section_matches_the_registered_options():
    check(load())


@pytest.mark.parametrize('where', ['valet', 'password'])
def test_a_renamed_option_fails_the_tie(where):
    data = copy.deepcopy(load())
    data[where][0]['option'] += '_renamed'
    with pytest.raises(AssertionError, match='not registered'):
        check(data)


def test_a_dropped_option_fails_the_tie():
    data = copy.deepcopy(load())
    data['valet'] = [e for e in data['valet'] if e['option'] != 'failure_mode']
    with pytest.raises(AssertionError, match='never written'):
        check(data)


def test_the_password_is_secret_and_the_filters_name_the_plugins_classes():
    data = load()
    assert [e.get('secret') for e in data['password']] == [True]
    nova = {e['option']: e for e in data['nova']}
    module, _dot, cls = nova['available_filters']['value'].rpartition('.')
    # Read, not imported: importing the filter registers Nova's options in this process's global CONF,
    # where Heat's (imported by other tests of this worker) clash with them (DuplicateOptError: host).
    spec = importlib.util.find_spec(module)
    assert spec is not None, module
    with open(spec.origin) as handle:
        classes = {node.name for node in ast.parse(handle.read()).body if isinstance(node, ast.ClassDef)}
    assert cls in classes and cls == nova['enabled_filters']['value']
    assert nova['enabled_filters']['position'] == 'last'
