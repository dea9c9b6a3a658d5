"""The role's own backup.yml, restore.yml and uninstall.yml run for real on localhost (issue 24.1, 9, 10).

A playbook includes the task files with `include_role: tasks_from:`; extra vars stand in for what the
plan would have read (no component to restart here: valet_openstack_components is empty, the backup
items are given), so every file task of those files runs as on a controller, in the test's tmp dir.
"""

import json
import os
import subprocess

import yaml
from ansible_env import BIN
from ansible_env import REPO
from ansible_env import ansible_env

OLD_BACKUPS = ['20240101T000000Z', '20250101T000000Z', '20250601T000000Z', '20251201T000000Z']


def _run(tmp_path, tasks, extra):
    play = [{'name': 'role task files', 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}]
    (tmp_path / 'play.yml').write_text(yaml.safe_dump(play))
    base = {
        'ansible_connection': 'local',
        'ansible_python_interpreter': os.path.join(BIN, 'python'),
        'valet_openstack_components': [],
        'valet_openstack_installed': {},
        'valet_openstack_ledger': str(tmp_path / 'state' / 'ini_ledger.json'),
        'valet_openstack_backup_dir': str(tmp_path / 'backups'),
        'valet_openstack_src_dir': str(tmp_path / 'src'),
    }
    (tmp_path / 'vars.json').write_text(json.dumps(dict(base, **extra)))
    proc = subprocess.run(
        [
            os.path.join(BIN, 'ansible-playbook'),
            '-i',
            'localhost,',
            str(tmp_path / 'play.yml'),
            '-e',
            '@' + str(tmp_path / 'vars.json'),
        ],
        cwd=REPO,
        env=ansible_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    (tmp_path / 'run.log').write_text(proc.stdout + proc.stderr)
    return proc


def _role(tasks_from):
    return {
        'name': 'valet_openstack ' + tasks_from,
        'ansible.builtin.include_role': {'name': 'valet.openstack.valet_openstack', 'tasks_from': tasks_from},
    }


def test_failed_rollout_restores_a_symlinked_conf_through_the_link(tmp_path):
    """Backup follows the link; restore writes the target back; the link stays; no mode 0777 anywhere.

    Also: backup copies are 0600 and only the last valet_openstack_backup_keep rollouts stay.
    """
    target = tmp_path / 'etc' / 'nova' / 'nova.conf'
    target.parent.mkdir(parents=True)
    target.write_text('[valet]\nadmin_password = old-secret\n')
    target.chmod(0o640)
    link = tmp_path / 'nova.conf'
    link.symlink_to(target)
    backups = tmp_path / 'backups'
    for name in OLD_BACKUPS:
        (backups / name).mkdir(parents=True)
    (backups / 'operator-notes.txt').write_text('not the role s\n')
    tasks = [
        _role('backup.yml'),
        {
            'block': [
                {
                    'name': 'the rollout writes through the link',
                    'ansible.builtin.copy': {'content': 'changed\n', 'dest': str(link), 'follow': True},
                },
                {'name': 'then fails', 'ansible.builtin.fail': {'msg': 'a rollout step failed'}},
            ],
            'rescue': [_role('restore.yml')],
        },
    ]
    items = [
        {'key': 'nova.conf', 'path': str(link)},
        {'key': 'ini_ledger.json', 'path': str(tmp_path / 'state' / 'ini_ledger.json')},
        {'key': 'src', 'path': str(tmp_path / 'src')},
    ]
    proc = _run(tmp_path, tasks, {'valet_openstack_backup_items': items, 'valet_openstack_backup_keep': 3})
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and 'rollout failed at then fails' in out and 'Restored from' in out, out
    assert link.is_symlink() and os.readlink(str(link)) == str(target)
    assert target.read_text() == '[valet]\nadmin_password = old-secret\n'
    assert target.stat().st_mode & 0o7777 == 0o640
    kept = sorted(n for n in os.listdir(str(backups)) if n != 'operator-notes.txt')
    assert len(kept) == 3 and kept[:2] == OLD_BACKUPS[-2:], kept
    assert (backups / 'operator-notes.txt').exists()
    copy = backups / kept[-1] / 'nova.conf'
    assert not copy.is_symlink() and copy.read_text() == '[valet]\nadmin_password = old-secret\n'
    assert copy.stat().st_mode & 0o7777 == 0o600
    assert (backups / kept[-1]).stat().st_mode & 0o7777 == 0o700


def test_uninstall_removes_only_what_the_role_put_there(tmp_path):
    """valet_openstack_src_dir shared with an operator's file: ours goes, theirs stays; backups go too."""
    src = tmp_path / 'src'
    for name in ('valet_os', 'etc', 'build', 'valet_openstack.egg-info'):
        (src / name).mkdir(parents=True)
    for name in ('pyproject.toml', 'LICENSE', 'README.md', '.valet_os-source.sha256'):
        (src / name).write_text('x\n')
    (src / 'operator.txt').write_text('mine\n')
    backups = tmp_path / 'backups'
    for name in OLD_BACKUPS[:2]:
        (backups / name).mkdir(parents=True)
        (backups / name / 'nova.conf').write_text('admin_password = secret\n')
    proc = _run(
        tmp_path, [_role('uninstall.yml')], {'valet_openstack_state': 'absent', 'valet_openstack_verify': False}
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert sorted(os.listdir(str(src))) == ['operator.txt']
    assert 'holds files this role did not put there' in out and 'operator.txt' in out
    assert not backups.exists()
    # With nothing foreign left, the staging directory goes as well.
    (src / 'operator.txt').unlink()
    (src / 'valet_os').mkdir()
    proc = _run(
        tmp_path, [_role('uninstall.yml')], {'valet_openstack_state': 'absent', 'valet_openstack_verify': False}
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not src.exists()


def test_configure_writes_a_dollar_password_that_oslo_config_reads_back(tmp_path):
    """Issue 24.2 through the role's own edit list: a `$` in the Valet password reaches Nova intact."""
    from oslo_config import cfg

    password = 'Va$let$$pw${x}$'
    nova_conf = tmp_path / 'nova.conf'
    nova_conf.write_text('[DEFAULT]\ndebug = False\n')
    nova_conf.chmod(0o640)
    extra = {
        'valet_openstack_components': [
            {'name': 'nova', 'conf': str(nova_conf), 'edits': '{{ valet_openstack_nova_edits }}'}
        ],
        'valet_openstack_admin_password': password,
        # No service here to restart: the handler's list is empty.
        'valet_openstack_restart_names': [],
    }
    proc = _run(tmp_path, [_role('configure.yml')], extra)
    assert proc.returncode == 0 and 'changed=1' in proc.stdout, proc.stdout + proc.stderr
    assert password not in proc.stdout + proc.stderr
    conf = cfg.ConfigOpts()
    conf.register_opts([cfg.StrOpt('password', secret=True)], group='valet')
    conf(args=[], default_config_files=[str(nova_conf)])
    assert conf.valet.password == password
    # The next run finds the file right (the ledger and the comparison work on the written text).
    proc = _run(tmp_path, [_role('configure.yml')], extra)
    assert proc.returncode == 0 and 'changed=0' in proc.stdout, proc.stdout + proc.stderr
