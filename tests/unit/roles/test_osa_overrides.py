"""roles/valet_deploy_tool/files/osa_overrides.py, run for real on a tmp /etc/openstack_deploy: which of the
operator's values Valet's group_vars file carries, as Ansible would have used them without it."""

import json
import os
import subprocess
import sys

from ansible_env import REPO

SCRIPT = os.path.join(REPO, 'roles', 'valet_deploy_tool', 'files', 'osa_overrides.py')
NAMES = ['nova_nova_conf_overrides', 'nova_scheduler_extra_filters']


def overrides(config_dir):
    args = {
        'config_dir': str(config_dir),
        'own_files': ['valet_openstack.yml', 'valet_openstack_secrets.yml'],
        'old_files': [],
        'components': {
            'nova': {'group': 'nova_scheduler', 'groups': ['all', 'nova_scheduler'], 'hosts': ['s1'], 'names': NAMES}
        },
    }
    out = subprocess.run([sys.executable, SCRIPT, json.dumps(args)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_a_later_level_replaces_a_variable_whole_as_ansible_does(tmp_path):
    group_vars = tmp_path / 'group_vars'
    (group_vars / 'nova_scheduler').mkdir(parents=True)
    (group_vars / 'all.yml').write_text(
        'nova_nova_conf_overrides:\n  DEFAULT:\n    debug: true\nnova_scheduler_extra_filters: [A]\nother: 1\n'
    )
    # Sorts before Valet's file in the group's directory: below it, above group_vars/all.
    (group_vars / 'nova_scheduler' / '00-operator.yml').write_text(
        'nova_nova_conf_overrides:\n  DEFAULT:\n    cpu_allocation_ratio: 4.0\n'
    )
    result = overrides(tmp_path)
    # Ansible's default hash_behaviour (replace): the group's dict is the value, all.yml's debug is gone;
    # the list only all.yml sets stays; a variable Valet does not write is not read.
    assert result['merge']['nova'] == {
        'nova_nova_conf_overrides': {'DEFAULT': {'cpu_allocation_ratio': 4.0}},
        'nova_scheduler_extra_filters': ['A'],
    }
    assert result['refuse'] == [] and result['unread'] == []


def test_a_file_after_valets_is_refused_by_name(tmp_path):
    group_dir = tmp_path / 'group_vars' / 'nova_scheduler'
    group_dir.mkdir(parents=True)
    (group_dir / 'zz-operator.yml').write_text('nova_scheduler_extra_filters: [B]\nsecret_thing: hunter2\n')
    result = overrides(tmp_path)
    assert result['merge']['nova'] == {}
    assert [(r['path'], r['names']) for r in result['refuse']] == [
        (str(group_dir / 'zz-operator.yml'), ['nova_scheduler_extra_filters'])
    ]
    assert 'hunter2' not in json.dumps(result)
