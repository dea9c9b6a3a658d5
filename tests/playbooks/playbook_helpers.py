"""Helpers of the playbook tests (a module name of its own: `conftest` is ambiguous when pytest
collects several test directories). Run playbooks/site.yml for real against localhost (connection
local) with every path in a tmp dir.

Nothing on this machine changes: config files, ledger, backups and the staged source all live in
the test's tmp dir, and the bad inputs must stop the play before anything is installed.
"""

import json
import os
import re
import subprocess
import sys
import textwrap

from ansible_env import ansible_env

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
# The venv running pytest has Heat 27 / Nova 34 and their console scripts, so it stands in for an
# openstack-ansible venv (valet_openstack_venv) and for the services' existence check.
VENV = sys.prefix

HEAT_CONF = textwrap.dedent("""\
    [DEFAULT]
    # operator's comment, kept byte for byte
    debug = False
    plugin_dirs = /usr/lib/heat

    [database]
    connection = sqlite://
    """)

NOVA_CONF = textwrap.dedent("""\
    [DEFAULT]
    debug = False

    [filter_scheduler]
    enabled_filters = ComputeFilter, ImagePropertiesFilter
    """)


def package_state(python=sys.executable):
    """Installed valet-openstack version in the venv, or None: proves nothing was (un)installed."""
    out = subprocess.run(
        [
            python,
            "-c",
            "import importlib.metadata as m\n"
            "try: print(m.version('valet-openstack'))\n"
            "except m.PackageNotFoundError: print('none')",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


class Controller:
    """A tmp 'controller': config files, inventory and extra vars for one ansible-playbook run."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.heat_conf = tmp_path / "heat.conf"
        self.nova_conf = tmp_path / "nova.conf"
        self.heat_conf.write_text(HEAT_CONF)
        self.nova_conf.write_text(NOVA_CONF)
        # A port nothing listens on unless a test starts the emulator there.
        self.vars = {
            "valet_openstack_heat_conf": str(self.heat_conf),
            "valet_openstack_nova_conf": str(self.nova_conf),
            "valet_openstack_heat_log": str(tmp_path / "heat-engine.log"),
            "valet_openstack_nova_log": str(tmp_path / "nova-scheduler.log"),
            "valet_openstack_ledger": str(tmp_path / "state" / "ini_ledger.json"),
            "valet_openstack_backup_dir": str(tmp_path / "backups"),
            "valet_openstack_src_dir": str(tmp_path / "src"),
            "valet_openstack_venv": VENV,
            "valet_openstack_api_url": "http://127.0.0.1:9/v1",
            "valet_openstack_admin_auth_url": "http://127.0.0.1:9/v3",
            "valet_openstack_admin_password": "valet-test-pw",
            "valet_openstack_settle_timeout": 5,
            "valet_site_keystone": False,
        }
        self.groups = {"heat_engine": ["localhost"], "nova_scheduler": ["localhost"]}
        self.hostvars = {}

    def snapshot(self):
        """Bytes of every file under tmp, to prove a failed run changed nothing."""
        files = {}
        for root, _dirs, names in os.walk(self.tmp):
            for name in names:
                path = os.path.join(root, name)
                if name in ("inventory.json", "vars.json", "run.log"):
                    continue
                with open(path, "rb") as f:
                    files[os.path.relpath(path, self.tmp)] = f.read()
        dirs = sorted(os.path.relpath(r, self.tmp) for r, _d, _n in os.walk(self.tmp))
        return files, dirs

    def inventory(self):
        hosts = {h for members in self.groups.values() for h in members} | set(self.hostvars)
        base = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
        inv = {
            "all": {
                "hosts": {h: dict(base, **self.hostvars.get(h, {})) for h in sorted(hosts)},
                "children": {g: {"hosts": {h: {} for h in members}} for g, members in self.groups.items()},
            }
        }
        return inv

    def run(self, playbook="playbooks/site.yml", extra=None, options=()):
        inv = self.tmp / "inventory.json"
        inv.write_text(json.dumps(self.inventory()))
        varsfile = self.tmp / "vars.json"
        varsfile.write_text(json.dumps(dict(self.vars, **(extra or {}))))
        proc = subprocess.run(
            [os.path.join(BIN, "ansible-playbook"), "-i", str(inv), playbook, "-e", "@" + str(varsfile), *options],
            cwd=REPO,
            env=ansible_env(),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        (self.tmp / "run.log").write_text(proc.stdout + proc.stderr)
        return proc


FAILED_LINE = re.compile(r"^(?:fatal|failed): \[[^\]]+\].*? => (\{.*\})$")


def failure_messages(output):
    """The msg of every failed task (or loop item) in ansible-playbook's default output."""
    msgs = []
    for line in output.splitlines():
        match = FAILED_LINE.match(line)
        if match:
            try:
                result = json.loads(match.group(1))
            except ValueError:
                continue
            msg = result.get("msg", "")
            if msg == "All items completed" or not msg:
                msg = "; ".join(r.get("msg", "") for r in result.get("results", []) if r.get("failed"))
            if msg:  # a no_log result says nothing; the task reporting it comes next
                msgs.append(msg)
    return msgs
