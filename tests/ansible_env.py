"""The environment the tests run ansible-playbook with: this repository's ansible.cfg, plain output
for the assertions, and the venv's console scripts first on PATH."""

import os
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
