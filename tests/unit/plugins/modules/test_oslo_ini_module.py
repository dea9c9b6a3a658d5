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
    # Issue 24.10: the ledger never held the operator's earlier password, so it is not put back:
    # the option goes, no secret of anyone's is left.
    assert conf.read_bytes() == original.replace(('admin_password = %s\n' % OLD_PW).encode(), b'')


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


# -- issue 24: symlinks, `$`, secrets, unwritable or full directories ------------------------------

PASSWORD_EDITS = [
    {'section': 'valet', 'option': 'url', 'value': 'http://valet-api:8090/v1'},
    {'section': 'valet', 'option': 'admin_password', 'secret': True},
]


def test_symlinked_conf_stays_a_link_and_keeps_its_targets_mode(run_module, conf, tmp_path):
    """Issue 24.1: install and uninstall write the link's target; the link is never replaced."""
    link = tmp_path / 'etc-link' / 'nova.conf'
    link.parent.mkdir()
    link.symlink_to(conf)
    original = conf.read_bytes()
    args = ini_args(link, tmp_path, edits=PASSWORD_EDITS, secret_value=NEW_PW)
    _out, res = run_module('oslo_ini', args)
    assert res['changed'], res
    assert link.is_symlink() and os.readlink(str(link)) == str(conf)
    assert b'admin_password = ' + NEW_PW.encode() in conf.read_bytes()
    st = os.stat(str(conf))
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (0, 65534, 0o640)
    assert not [n for n in os.listdir(str(conf.parent)) + os.listdir(str(link.parent)) if n.startswith('.oslo_ini.')]
    _out, res = run_module('oslo_ini', dict(args, state='absent'))
    assert res['changed'] and link.is_symlink()
    assert conf.read_bytes() == original
    assert os.stat(str(conf)).st_mode & 0o7777 == 0o640


@pytest.mark.parametrize('password', ['pa$word', '$valet_pw', 'x$$y', '${url}tail$', 'end$'])
def test_dollar_in_a_value_reads_back_exactly_with_oslo_config(run_module, conf, tmp_path, password):
    """Issue 24.2: oslo.config interpolates `$name`; the module writes `$$` and reads back the exact value."""
    from oslo_config import cfg

    args = ini_args(conf, tmp_path, edits=PASSWORD_EDITS, secret_value=password)
    out, res = run_module('oslo_ini', args)
    assert res['changed'] and password not in out
    conf_opts = cfg.ConfigOpts()
    conf_opts.register_opts([cfg.StrOpt('admin_password', secret=True), cfg.StrOpt('url')], group='valet')
    conf_opts(args=[], default_config_files=[str(conf)])
    assert conf_opts.valet.admin_password == password
    # Idempotent, and the plan (oslo_ini_info on the same edits) agrees nothing is left to do.
    _out, res = run_module('oslo_ini', args)
    assert not res['changed'], res
    _out, info = run_module('oslo_ini_info', args)
    assert info['pending'] == [], info
    # literal=false writes the text as given (a deliberate reference).
    _out, res = run_module(
        'oslo_ini', ini_args(conf, tmp_path, section='valet', option='ref', value='$url', literal=False)
    )
    assert b'ref = $url\n' in conf.read_bytes()


def test_ledger_never_holds_the_previous_secret(run_module, conf, tmp_path):
    """Issue 24.10: the operator's earlier password replaced by ours is not kept in the ledger."""
    with open(str(conf), 'ab') as handle:
        handle.write(('\n[valet]\nadmin_password = %s\n' % OLD_PW).encode())
    args = ini_args(conf, tmp_path, edits=PASSWORD_EDITS, secret_value=NEW_PW)
    run_module('oslo_ini', args)
    ledger = (tmp_path / 'state' / 'ledger.json').read_text()
    assert OLD_PW not in ledger and NEW_PW not in ledger
    record = json.loads(ledger)['files'][str(conf)]['options']['valet/admin_password']
    assert record['previous_secret'] is True and 'previous_raw' not in record


def test_ledger_of_release_1_is_read_and_its_secret_dropped(run_module, conf, tmp_path):
    """A 1.0 / 1.1 ledger (version 1) still works; the clear previous password it held is gone once read."""
    text = conf.read_text() + '\n[valet]\nurl = http://old\nadmin_password = %s\n' % NEW_PW
    conf.write_text(text)
    from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import _digest

    v1 = {
        'version': 1,
        'files': {
            str(conf): {
                'sections': {},
                'options': {
                    'valet/admin_password': {
                        'kind': 'scalar',
                        'created': False,
                        'ours': _digest(NEW_PW),
                        'previous_raw': OLD_PW,
                    },
                    'valet/url': {
                        'kind': 'scalar',
                        'created': False,
                        'ours': _digest('http://old'),
                        'previous_raw': 'http://operator',
                    },
                },
            }
        },
    }
    ledger_path = tmp_path / 'state' / 'ledger.json'
    ledger_path.parent.mkdir()
    ledger_path.write_text(json.dumps(v1))
    args = ini_args(conf, tmp_path, edits=PASSWORD_EDITS, secret_value=NEW_PW)
    _out, res = run_module('oslo_ini', dict(args, edits=PASSWORD_EDITS[1:]))
    assert not res['changed'], res
    data = json.loads(ledger_path.read_text())
    assert data['version'] == 2 and OLD_PW not in ledger_path.read_text()
    # The non-secret previous value is still put back; the secret option is removed.
    run_module(
        'oslo_ini', dict(args, state='absent', edits=[{'section': 'valet', 'option': 'url'}] + PASSWORD_EDITS[1:])
    )
    after = conf.read_text()
    assert 'url = http://operator\n' in after and 'admin_password' not in after


def test_lost_ledger_leaves_no_password_behind(run_module, conf, tmp_path):
    """Issue 24.10: uninstall removes the secret options even when the ledger is gone."""
    args = ini_args(conf, tmp_path, edits=PASSWORD_EDITS, secret_value=NEW_PW)
    run_module('oslo_ini', args)
    (tmp_path / 'state' / 'ledger.json').unlink()
    _out, res = run_module('oslo_ini', dict(args, state='absent'))
    assert res['changed'] and 'admin_password' not in conf.read_text()


def test_world_readable_file_refused_before_the_secret_is_written(run_module, conf, tmp_path):
    """Issue 24.10: a nova.conf every user can read does not get the password; the message names the file."""
    os.chmod(str(conf), 0o644)
    original = conf.read_bytes()
    args = ini_args(conf, tmp_path, edits=PASSWORD_EDITS, secret_value=NEW_PW)
    for module in ('oslo_ini_info', 'oslo_ini'):
        out, res = run_module(module, args)
        assert res['failed'] and '%s is readable by every user (mode 0644)' % conf in res['msg'], res
        assert '[valet] admin_password' in res['msg'] and NEW_PW not in out
    assert conf.read_bytes() == original and not (tmp_path / 'state').exists()
    # Nothing secret to write (uninstall, or edits without a secret): no refusal.
    _out, res = run_module('oslo_ini', ini_args(conf, tmp_path, edits=PASSWORD_EDITS[:1]))
    assert res['changed'] and not res.get('failed')


def test_info_masks_secret_values(run_module, tmp_path):
    """Issue 24.10: oslo_ini_info with options: never returns a credential."""
    path = tmp_path / 'nova.conf'
    shutil.copy(os.path.join(DATA, 'nova_juno.conf'), str(path))
    with open(str(path), 'a') as handle:
        handle.write('\n[valet]\nadmin_password = %s\nurl = http://v\n' % NEW_PW)
    out, res = run_module(
        'oslo_ini_info',
        dict(path=str(path), options=['valet/admin_password', 'database/connection', 'valet/url']),
    )
    assert res['values'] == {
        'valet/admin_password': ['********'],
        'database/connection': ['********'],
        'valet/url': ['http://v'],
    }
    assert NEW_PW not in out and 'Nova-DB-pw' not in out


@pytest.fixture
def small_fs(tmp_path):
    """A 64 KiB tmpfs (the module's write then meets a full disk, or, remounted read-only, EROFS)."""
    mnt = tmp_path / 'fs'
    mnt.mkdir()
    proc = subprocess.run(
        ['mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', str(mnt)], capture_output=True, check=False
    )
    if proc.returncode != 0:
        pytest.skip('needs mount (root): %s' % proc.stderr.decode().strip())
    yield mnt
    subprocess.run(['umount', str(mnt)], check=True)


def test_full_disk_leaves_no_temporary_file(run_module, small_fs, tmp_path):
    """Issue 24.12: a write that fails (ENOSPC) leaves the file as it was and no .oslo_ini.* behind."""
    path = small_fs / 'nova.conf'
    path.write_text('[DEFAULT]\ndebug = False\n')
    os.chmod(str(path), 0o640)
    # Fill the rest of the file system.
    handle = open(str(small_fs / 'filler'), 'wb', buffering=0)
    try:
        while True:
            handle.write(b'x' * 1024)
    except OSError:
        pass
    try:
        handle.close()
    except OSError:
        pass
    args = ini_args(path, tmp_path, section='valet', option='url', value='http://valet-api:8090/v1' * 200)
    _out, info = run_module(
        'oslo_ini_info',
        dict(
            path=args['path'],
            ledger=args['ledger'],
            writable=True,
            edits=[dict(section='valet', option='url', value=args['value'])],
        ),
    )
    assert info['failed'] and 'bytes free, the new file needs' in info['msg'], info
    _out, res = run_module('oslo_ini', args)
    assert res['failed'], res
    assert path.read_text() == '[DEFAULT]\ndebug = False\n'
    assert sorted(os.listdir(str(small_fs))) == ['filler', 'nova.conf']


def test_read_only_directory_refused_by_the_plan(run_module, small_fs, tmp_path):
    """Issue 24.12: oslo_ini_info writable: true fails on a read-only directory, naming file and directory."""
    path = small_fs / 'heat.conf'
    path.write_text('[DEFAULT]\ndebug = False\n')
    subprocess.run(['mount', '-o', 'remount,ro', str(small_fs)], check=True)
    edits = [dict(section='valet', option='url', value='http://v')]
    _out, info = run_module(
        'oslo_ini_info', dict(path=str(path), edits=edits, writable=True, ledger=str(tmp_path / 'l.json'))
    )
    assert info['failed'] and info['msg'].startswith('%s: its directory %s is not writable' % (path, small_fs)), info
    # Nothing pending: nothing to write, no refusal.
    _out, info = run_module(
        'oslo_ini_info',
        dict(
            path=str(path),
            edits=[dict(section='DEFAULT', option='debug', value='False')],
            writable=True,
            ledger=str(tmp_path / 'l.json'),
        ),
    )
    assert not info.get('failed') and info['pending'] == []
