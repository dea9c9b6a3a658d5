"""Helpers of the deployment-mode tests, imported by conftest.py and the tests (a module name of
its own: `conftest` is ambiguous when pytest collects several test directories)."""

import json
import os
import re
import subprocess
import sys
import venv

from ansible_env import ansible_env

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
HERE = os.path.dirname(os.path.abspath(__file__))
PROBE = os.path.join(REPO, "plugins", "module_utils", "valet_probe_service.py")
VALET_PASSWORD = "valet-deploy-pw"
# A Valet user of these tests' own: the session's Keystone is shared with other files on the same
# pytest worker, and tests/plugin_package keeps user "valet" with its own password for the session.
VALET_USER = "valet-deploy"
# openstack-ansible renders with `config_template` from the PyPI package ansible-config-template
# (the action plugin OSA's roles call as openstack.config_template.config_template). Its 2.1.1
# release does not load on ansible-core 2.19, so it gets the ansible-core OSA itself runs (2.18),
# in a venv of its own, made once and kept under tests/output.
OSA_RENDERER = os.path.join(REPO, "tests", "output", "osa-renderer")
OSA_RENDERER_PKGS = ["ansible-core>=2.18,<2.19", "ansible-config-template==2.1.1"]
# kolla-build (PyPI kolla) pins its own dependencies: a venv of its own too. --template-only
# renders the Dockerfiles without a container engine; it only imports the docker library.
KOLLA_BUILD = os.path.join(REPO, "tests", "output", "kolla-build")
# The same release as the kolla-ansible of requirements-test.txt (2026.1: both 22.2.0).
KOLLA_BUILD_PKGS = ["kolla==22.2.0", "docker"]


def run(cmd, env=None, cwd=REPO, ok=True):
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    if ok:
        assert proc.returncode == 0, "%s failed:\n%s\n%s" % (cmd, proc.stdout[-5000:], proc.stderr[-3000:])
    return proc


def tool_venv(path, packages):
    """bin/ of a venv with these packages, made once and kept while the list is the same."""
    python = os.path.join(path, "bin", "python")
    stamp = os.path.join(path, ".valet-pkgs")
    if not (os.path.exists(stamp) and open(stamp).read() == "\n".join(packages)):
        venv.EnvBuilder(with_pip=True, clear=True).create(path)
        run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check"] + packages)
        with open(stamp, "w") as f:
            f.write("\n".join(packages))
    return os.path.join(path, "bin")


def pip_install_prefix(spec, prefix, find_links=None):
    """pip install into a venv-like prefix (what OSA's venv build and kolla's image build do)."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "-q",
        "--no-deps",
        "--no-build-isolation",
        "--ignore-installed",
        "--disable-pip-version-check",
        "--prefix",
        str(prefix),
    ]
    if find_links:
        cmd += ["--no-index", "--find-links", str(find_links)]
    run(cmd + [spec])


def probe(component, config_file):
    """valet_verify's probe, run by this venv's Heat 27 / Nova 34: {check name: (ok, detail)}."""
    args = {"component": component, "config_file": str(config_file), "expect": "present"}
    out = run([sys.executable, PROBE, json.dumps(args)]).stdout
    report = json.loads(out.strip().splitlines()[-1])
    return {c["name"]: (c["ok"], c["detail"]) for c in report["checks"]}


class Site:
    """site.yml / uninstall.yml against localhost as heat-engine and nova-scheduler host (and, with a
    deployment tool, as the tool's deploy host)."""

    def __init__(self, tmp_path, keystone, emulator, mode):
        self.tmp = tmp_path
        self.groups = {"heat_engine": ["localhost"], "nova_scheduler": ["localhost"]}
        self.vars = {
            "valet_openstack_api_url": emulator.url,
            "valet_openstack_admin_auth_url": keystone.auth_url,
            "valet_openstack_admin_username": VALET_USER,
            "valet_openstack_admin_password": VALET_PASSWORD,
            "valet_openstack_ledger": str(tmp_path / "state" / "ini_ledger.json"),
            # The controllers are only looked at in these modes; this machine's Python stands in.
            "valet_openstack_venv": sys.prefix,
            "valet_openstack_verify": False,
            "valet_site_keystone": False,
        }
        if mode != "packages":
            self.vars["valet_deploy_tool_name"] = mode

    def run(self, playbook="playbooks/site.yml", extra=None, args=(), ok=True):
        inv = self.tmp / "inventory.json"
        base = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
        inv.write_text(
            json.dumps(
                {
                    "all": {
                        "vars": base,
                        "hosts": {"localhost": {}},
                        "children": {
                            group: {"hosts": {host: {} for host in hosts}} for group, hosts in self.groups.items()
                        },
                    }
                }
            )
        )
        varsfile = self.tmp / "vars.json"
        varsfile.write_text(json.dumps(dict(self.vars, **(extra or {}))))
        proc = run(
            [os.path.join(BIN, "ansible-playbook"), "-i", str(inv), playbook, "-e", "@" + str(varsfile)] + list(args),
            env=ansible_env(),
            ok=ok,
        )
        return proc.stdout + proc.stderr


RECAP = re.compile(r"^localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def recap(output):
    match = RECAP.findall(output)
    assert match, output[-3000:]
    ok, changed, unreachable, failed = map(int, match[-1])
    return {"ok": ok, "changed": changed, "unreachable": unreachable, "failed": failed}
