"""Helpers of the playbook tests (a module name of its own: `conftest` is ambiguous when pytest
collects several test directories). Run playbooks/site.yml for real against localhost (connection
local) with every path in a tmp dir.

Nothing on this machine changes: config files, ledger, backups and the staged source all live in
the test's tmp dir, and the bad inputs must stop the play before anything is installed.
"""

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import sysconfig
import textwrap
import uuid

from ansible_env import ansible_env

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
# The role's INI engine, to put a host in the state an earlier release or an interrupted run left it
# in. Plain Python (no Ansible import): loaded from its file.
_spec = importlib.util.spec_from_file_location("oslo_ini", os.path.join(REPO, "plugins", "module_utils", "oslo_ini.py"))
oslo_ini = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(oslo_ini)

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
        # As packaged (root:nova 0640): a world-readable file is refused before the password goes in.
        self.heat_conf.chmod(0o640)
        self.nova_conf.chmod(0o640)
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
        self.env = {}
        self.services = None

    def with_services(self):
        """For runs that change the host: the services' Python is a venv of its own (Heat and Nova
        reached through a .pth of the test venv's site-packages; valet-openstack gets installed there,
        never into the test venv), and heat-engine / nova-scheduler are stand-in processes with names
        of their own, restarted by library/standin_service.py. INFO is off for the services' start
        loggers, so verify checks config, process and log errors, not start lines nobody writes."""
        venv = self.tmp / "svc-venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        site = subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        # The test venv's packages minus its own valet-openstack (an editable install of /work/main's
        # checkout): what the role installs, and uninstalls, is the only one the services see.
        overlay = self.tmp / "svc-site"
        overlay.mkdir()
        shared = sysconfig.get_paths()["purelib"]
        for name in os.listdir(shared):
            if "valet_openstack" not in name.lower().replace("-", "_"):
                os.symlink(os.path.join(shared, name), overlay / name)
        with open(os.path.join(site, "test_venv.pth"), "w") as f:
            f.write(str(overlay) + "\n")
        self.services = self.tmp / "services"
        self.services.mkdir()
        tag = uuid.uuid4().hex[:8]
        names = {"heat": "heat-engine-%s" % tag, "nova": "nova-scheduler-%s" % tag}
        for name in names.values():
            (venv / "bin" / name).write_text("#!/bin/sh\n")
            (venv / "bin" / name).chmod(0o755)
            argv = ["bash", "-c", "exec -a %s sleep 3600" % name]
            (self.services / (name + ".json")).write_text(json.dumps({"argv": argv}))
        for component, conf in (("heat", self.heat_conf), ("nova", self.nova_conf)):
            text = conf.read_text().replace("[DEFAULT]\n", "[DEFAULT]\ndefault_log_levels = %s=WARN\n" % component, 1)
            conf.write_text(text)
            (self.tmp / ("%s.log" % names[component].rsplit("-", 1)[0])).touch()
        self.names = names
        self.vars.update(
            valet_openstack_venv=str(venv),
            valet_openstack_heat_service=names["heat"],
            valet_openstack_nova_service=names["nova"],
            valet_openstack_service_manager="ansible.legacy.standin_service",
        )
        self.env.update(
            ANSIBLE_LIBRARY=os.path.join(os.path.dirname(os.path.abspath(__file__)), "library"),
            STANDIN_SERVICES=str(self.services),
        )
        return self

    def pid(self, component):
        """The stand-in's pid now (None before its first start)."""
        path = self.services / (self.names[component] + ".pid")
        return int(path.read_text()) if path.exists() else None

    def restarts(self, component):
        path = self.services / (self.names[component] + ".restarts")
        return len(path.read_text().split()) if path.exists() else 0

    def close(self):
        """Stop the stand-ins this controller started."""
        if self.services is None:
            return
        for pidfile in self.services.glob("*.pid"):
            try:
                os.killpg(int(pidfile.read_text()), signal.SIGTERM)
            except (OSError, ValueError):
                pass

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
            env=ansible_env(**self.env),
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
