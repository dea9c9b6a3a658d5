"""The serial rollout's batches follow the inventory order, whatever order the plan's group_by
filled `valet_rollout_needed` in (it adds hosts as their results come back, which varies).

site.yml's own `hosts:` and `serial:` of the rollout play run for real with local hosts whose group
`valet_rollout_needed` is deliberately out of inventory order; each batch records its hosts.
"""

import json
import os
import subprocess

import yaml
from ansible_env import BIN
from ansible_env import REPO
from ansible_env import ansible_env


def _rollout_play(group="valet_rollout_needed"):
    """site.yml's serial play over `group` (the controllers', or valet-api's valet_api_rollout_needed)."""
    with open(os.path.join(REPO, "playbooks", "site.yml")) as f:
        plays = yaml.safe_load(f)
    (play,) = [p for p in plays if "serial" in p and "'%s'" % group in p["hosts"]]
    return play


RECORD_BATCH = {
    "name": "Record the batch",
    "ansible.builtin.shell": "echo {{ ansible_play_batch | join(',') }} >> {{ record }}",
    "run_once": True,
}


def _batches(tmp_path, inventory_order, needed_order, serial, group="valet_rollout_needed", tasks=(RECORD_BATCH,)):
    play = _rollout_play(group)
    record = tmp_path / "batches"
    playbook = [
        {
            "name": "site.yml's rollout play, its tasks replaced by recording each batch",
            "hosts": play["hosts"],
            "gather_facts": False,
            "serial": play["serial"],
            "vars": {"record": str(record)},
            "tasks": list(tasks),
        }
    ]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(playbook))
    local = {"ansible_connection": "local", "ansible_python_interpreter": os.path.join(BIN, "python")}
    inventory = {
        "all": {
            "hosts": {h: local for h in inventory_order},
            "children": {group: {"hosts": {h: {} for h in needed_order}}},
        }
    }
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    proc = subprocess.run(
        [
            os.path.join(BIN, "ansible-playbook"),
            "-i",
            str(tmp_path / "inventory.json"),
            str(tmp_path / "play.yml"),
            "-e",
            json.dumps({"valet_site_serial": serial}),
        ],
        env=ansible_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return record.read_text().split()


def test_batches_follow_the_inventory_not_the_group(tmp_path):
    batches = _batches(tmp_path, ["ctl1", "ctl2", "ctl3", "ctl4"], ["ctl4", "ctl1", "ctl3"], 1)
    assert batches == ["ctl1", "ctl3", "ctl4"]


def test_hosts_that_need_nothing_are_left_out_of_every_batch(tmp_path):
    batches = _batches(tmp_path, ["ctl1", "ctl2", "ctl3"], ["ctl3", "ctl2"], 2)
    assert batches == ["ctl2,ctl3"]


def _sync_host_expression():
    with open(os.path.join(REPO, "roles", "valet_api", "vars", "main.yml")) as f:
        return yaml.safe_load(f)["valet_api_sync_host"]


def test_valet_api_schema_is_synced_once_per_rollout(tmp_path):
    """roles/valet_api's database.yml runs on valet_api_sync_host only: in site.yml's serial valet-api
    rollout that is one host for the whole rollout (the first batch's first), not one per batch."""
    task = {
        "name": "Record the host that would create the database and run valet-manage db sync",
        "ansible.builtin.shell": "echo {{ inventory_hostname }} >> {{ record }}",
        "when": "inventory_hostname == valet_api_sync_host",
        "vars": {"valet_api_sync_host": _sync_host_expression()},
    }
    synced = _batches(tmp_path, ["api1", "api2", "api3"], ["api3", "api2"], 1, "valet_api_rollout_needed", [task])
    assert synced == ["api2"]
