"""Run valet.openstack.oslo_ini and oslo_ini_info for real, through the `ansible` CLI on localhost."""

import json
import os
import shutil
import subprocess
import sys

import pytest

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'data')
ANSIBLE = os.path.join(os.path.dirname(sys.executable), 'ansible')
OLD_PW = 'Old-Valet-pw-4711'
NEW_PW = 'New-Valet-pw-0815'


@pytest.fixture
def run_module(tmp_path, repo_root, collections_root):
    def run(module, args, check=False, diff=False):
        env = dict(
            os.environ,
            ANSIBLE_CONFIG=os.path.join(repo_root, 'ansible.cfg'),
            ANSIBLE_COLLECTIONS_PATH=collections_root,
            ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
            ANSIBLE_STDOUT_CALLBACK='ansible.posix.json',
            ANSIBLE_LOCAL_TEMP=str(tmp_path / 'ansible-tmp'),
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        )
        cmd = [ANSIBLE, 'localhost', '-m', 'valet.openstack.' + module, '-a', json.dumps(args)]
        if check:
            cmd.append('--check')
        if diff:
            cmd.append('--diff')
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
        out = json.loads(proc.stdout)
        result = out['plays'][0]['tasks'][0]['hosts']['localhost']
        return proc.stdout + proc.stderr, result

    return run


@pytest.fixture
def conf(tmp_path):
    """A nova.conf owned root:nogroup 0640, like a packaged one (root:nova)."""
    path = tmp_path / 'etc' / 'nova.conf'
    path.parent.mkdir()
    shutil.copy(os.path.join(DATA, 'nova.conf'), str(path))
    os.chown(str(path), 0, 65534)
    os.chmod(str(path), 0o640)
    return path


def ini_args(conf, tmp_path, **kw):
    args = dict(path=str(conf), ledger=str(tmp_path / 'state' / 'ledger.json'))
    args.update(kw)
    return args


ENABLED = dict(
    section='filter_scheduler',
    option='enabled_filters',
    kind='list',
    value='ValetFilter',
    position='last',
    default=['ComputeFilter', 'ImagePropertiesFilter'],
)


def test_present_writes_keeps_owner_and_mode_and_records_ledger(run_module, conf, tmp_path):
    original = conf.read_bytes()
    _out, res = run_module('oslo_ini', ini_args(conf, tmp_path, **ENABLED))
    assert res['changed'] and res['msg'] == 'option added' and res['previous'] is None
    assert conf.read_bytes() == original.replace(
        b'[filter_scheduler]\n',
        b'[filter_scheduler]\nenabled_filters = ComputeFilter,ImagePropertiesFilter,ValetFilter\n',
        1,
    )
    st = os.stat(str(conf))
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (0, 65534, 0o640)
    ledger_path = tmp_path / 'state' / 'ledger.json'
    assert os.stat(str(ledger_path)).st_mode & 0o777 == 0o600
    ledger = json.loads(ledger_path.read_text())
    assert ledger['files'][str(conf)]['options']['filter_scheduler/enabled_filters']['created'] is True

    _out, again = run_module('oslo_ini', ini_args(conf, tmp_path, **ENABLED))
    assert not again['changed']

    _out, undo = run_module('oslo_ini', ini_args(conf, tmp_path, state='absent', **ENABLED))
    assert undo['changed']
    assert conf.read_bytes() == original
    assert json.loads(ledger_path.read_text())['files'] == {}


def test_check_mode_reports_diff_and_writes_nothing(run_module, conf, tmp_path):
    original = conf.read_bytes()
    _out, res = run_module('oslo_ini', ini_args(conf, tmp_path, **ENABLED), check=True, diff=True)
    assert res['changed']
    assert res['diff']['before_header'] == res['diff']['after_header'] == str(conf)
    # The whole file, except Debian's sqlite `connection` which the diff masks as a credential.
    assert res['diff']['before'] == original.decode().replace(
        'connection = sqlite:////var/lib/nova/novadb\n', 'connection = ********\n'
    )
    assert 'enabled_filters = ComputeFilter,ImagePropertiesFilter,ValetFilter\n' in res['diff']['after']
    assert conf.read_bytes() == original
    assert not (tmp_path / 'state').exists()


def test_secret_never_appears_in_output(run_module, conf, tmp_path):
    with open(str(conf), 'ab') as handle:
        handle.write(('\n[valet]\nadmin_password = %s\n' % OLD_PW).encode())
    original = conf.read_bytes()
    args = ini_args(conf, tmp_path, section='valet', option='admin_password', value=NEW_PW, secret=True)
    out, res = run_module('oslo_ini', args, diff=True)
    assert res['changed'] and res['previous'] == '********'
    assert 'admin_password = ********' in res['diff']['after']
    assert 'admin_password = ********' in res['diff']['before']
    assert NEW_PW not in out and OLD_PW not in out
    assert ('admin_password = %s\n' % NEW_PW).encode() in conf.read_bytes()

    out, res = run_module('oslo_ini', dict(args, state='absent'), diff=True, check=True)
    assert res['changed'] and NEW_PW not in out and OLD_PW not in out
    out, res = run_module('oslo_ini', dict(args, state='absent'))
    assert NEW_PW not in out and OLD_PW not in out
    assert conf.read_bytes() == original


def test_diff_never_shows_other_credentials(run_module, tmp_path):
    path = tmp_path / 'nova.conf'
    shutil.copy(os.path.join(DATA, 'nova_juno.conf'), str(path))
    out, res = run_module('oslo_ini', ini_args(path, tmp_path, **ENABLED), diff=True)
    assert res['changed']
    assert 'ValetFilter' in res['diff']['after'] and 'ValetFilter' not in res['diff']['before']
    for secret in ('Nova-ks-pw', 'Rabbit-pw', 'Nova-DB-pw'):
        assert secret in path.read_text()
        assert secret not in out


def test_missing_file_fails(run_module, tmp_path):
    path = tmp_path / 'heat.conf'
    args = ini_args(path, tmp_path, section='DEFAULT', option='plugin_dirs', kind='list', value='/opt/v')
    _out, res = run_module('oslo_ini', args)
    assert res['failed'] and res['msg'] == '%s does not exist' % path
    assert not path.exists() and not (tmp_path / 'state').exists()


def test_create_and_remove_a_file_of_ours(run_module, tmp_path):
    # kolla mode: Valet's drop-ins may not exist yet; the uninstall leaves no empty file behind.
    path = tmp_path / 'heat.conf'
    args = ini_args(path, tmp_path, section='DEFAULT', option='plugin_dirs', kind='list', value='/opt/v', create=True)
    _out, res = run_module('oslo_ini', args)
    assert res['changed']
    assert path.read_text() == '[DEFAULT]\nplugin_dirs = /opt/v\n'
    assert os.stat(str(path)).st_mode & 0o777 == 0o640
    # the operator adds an option to the file: it stays, and so does the file
    path.write_text(path.read_text() + 'debug = true\n')
    _out, res = run_module('oslo_ini', dict(args, state='absent'))
    assert res['changed'] and path.read_text() == '[DEFAULT]\ndebug = true\n'
    path.unlink()
    _out, res = run_module('oslo_ini', args)
    assert res['changed'] and path.exists()
    _out, res = run_module('oslo_ini', dict(args, state='absent'))
    assert res['changed'] and not path.exists()
    assert json.loads((tmp_path / 'state' / 'ledger.json').read_text())['files'] == {}


NOVA_EDITS = [
    dict(ENABLED),
    dict(
        section='filter_scheduler',
        option='available_filters',
        kind='multi',
        value='valet_os.nova.valet_filter.ValetFilter',
        default=['nova.scheduler.filters.all_filters'],
    ),
    dict(section='valet', option='url', value='http://valet-api:8090/v1'),
    dict(section='valet', option='admin_password', secret=True),
]


def test_edit_list_in_one_call_plan_apply_undo(run_module, conf, tmp_path):
    """info plans the edit list without writing; one oslo_ini call applies it; absent undoes it byte for byte."""
    original = conf.read_bytes()
    args = ini_args(conf, tmp_path, edits=NOVA_EDITS, secret_value=NEW_PW)
    out, plan = run_module('oslo_ini_info', args)
    assert plan['pending'] == [
        'filter_scheduler/enabled_filters',
        'filter_scheduler/available_filters',
        'valet/url',
        'valet/admin_password',
    ]
    assert conf.read_bytes() == original and not (tmp_path / 'state').exists()
    assert NEW_PW not in out

    out, res = run_module('oslo_ini', args, diff=True)
    assert res['changed'] and [e['changed'] for e in res['edits']] == [True] * 4
    assert NEW_PW not in out and 'admin_password = ********' in res['diff']['after']
    text = conf.read_text()
    assert 'admin_password = %s' % NEW_PW in text and ',ValetFilter' in text

    out, plan = run_module('oslo_ini_info', args)
    assert plan['pending'] == []
    _out, res = run_module('oslo_ini', args)
    assert not res['changed'] and res['msg'] == 'nothing to change'

    _out, res = run_module(
        'oslo_ini',
        dict(
            ini_args(conf, tmp_path, state='absent'),
            edits=[dict(e, value=None) if e.get('secret') else e for e in NOVA_EDITS],
        ),
    )
    assert res['changed'] and conf.read_bytes() == original
    assert json.loads((tmp_path / 'state' / 'ledger.json').read_text())['files'] == {}


def test_edit_list_is_validated_before_any_edit(run_module, conf, tmp_path):
    original = conf.read_bytes()
    bad = NOVA_EDITS[:2] + [dict(section='valet', option='url', value='a\nb')]
    _out, res = run_module('oslo_ini', ini_args(conf, tmp_path, edits=bad))
    assert res['failed'] and 'must not contain newlines' in res['msg']
    assert conf.read_bytes() == original and not (tmp_path / 'state').exists()


def test_syntax_error_and_bad_parameters_touch_nothing(run_module, tmp_path):
    path = tmp_path / 'bad.conf'
    path.write_text('[DEFAULT]\ndebug = true\n[broken\n')
    _out, res = run_module('oslo_ini', ini_args(path, tmp_path, section='DEFAULT', option='x', value='1'))
    assert res['failed'] and res['msg'] == '%s: line 3: invalid section header (must end with "]")' % path
    good = tmp_path / 'good.conf'
    good.write_text('[DEFAULT]\n')
    _out, res = run_module(
        'oslo_ini', ini_args(good, tmp_path, section='DEFAULT', option='x', value='1', position='last')
    )
    assert res['failed'] and 'position is only valid with kind=list' in res['msg']
    assert good.read_text() == '[DEFAULT]\n'
    assert not (tmp_path / 'state').exists()


def test_info_returns_only_requested_values(run_module, tmp_path):
    path = tmp_path / 'nova.conf'
    shutil.copy(os.path.join(DATA, 'nova_juno.conf'), str(path))
    out, res = run_module(
        'oslo_ini_info',
        dict(path=str(path), options=['filter_scheduler/enabled_filters', 'DEFAULT/my_ip', 'valet/url']),
    )
    assert not res['changed'] and res['exists']
    assert res['sections'] == ['DEFAULT', 'database', 'filter_scheduler', 'keystone_authtoken']
    assert res['option_values'] == {
        'filter_scheduler/enabled_filters': [
            'ComputeFilter,ComputeCapabilitiesFilter',
            'ComputeFilter , ImagePropertiesFilter , ServerGroupAffinityFilter',
        ],
        'DEFAULT/my_ip': ['10.0.0.11'],
        'valet/url': [],
    }
    # The 1.1 name stays until 2.0.0 (deprecated in the module's description).
    assert res['values'] == res['option_values']
    for secret in ('Nova-ks-pw', 'Rabbit-pw', 'Nova-DB-pw'):
        assert secret not in out


def test_info_missing_and_syntax_error(run_module, tmp_path):
    path = tmp_path / 'absent.conf'
    _out, res = run_module('oslo_ini_info', dict(path=str(path)))
    assert res['failed'] and res['msg'] == '%s does not exist' % path
    _out, res = run_module('oslo_ini_info', dict(path=str(path), missing_ok=True))
    assert not res.get('failed') and res['exists'] is False
    assert res['option_values'] == res['values'] == {}
    path.write_text('[DEFAULT]\n  oops\n')
    _out, res = run_module('oslo_ini_info', dict(path=str(path)))
    assert res['failed'] and res['msg'] == '%s: line 2: unexpected continuation line' % path
