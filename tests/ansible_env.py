"""How the tests run Ansible: the environment of ansible-playbook runs (this repository's ansible.cfg,
plain output for the assertions, the venv's console scripts first on PATH), and one module run ad hoc."""

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)


def ansible_env(**extra):
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
        PATH=BIN + os.pathsep + os.environ["PATH"],
    )
    env.update(extra)
    return env


def run_ad_hoc(module, args, collections_root, options=(), env=None, cwd=REPO):
    """`ansible localhost -m MODULE -a <json args> [options]` with the json callback.

    Returns (the task's result dict, stdout + stderr): the tests look for secrets in the raw output.
    """
    full_env = dict(
        os.environ,
        ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=collections_root,
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
    )
    full_env.update(env or {})
    cmd = [os.path.join(BIN, "ansible"), "localhost", "-m", module, "-a", json.dumps(args), *options]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=full_env, cwd=cwd, check=False)
    raw = proc.stdout + proc.stderr
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError("ansible did not print JSON:\n" + raw) from None
    return data["plays"][0]["tasks"][0]["hosts"]["localhost"], raw
