"""roles/valet_keystone run with ansible-playbook against the real Keystone fixture."""

import json
import os
import subprocess
import sys
import uuid

import pytest
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3 as ks_v3

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = """\
- name: Valet identity footprint
  hosts: keystone_admin_host
  gather_facts: false
  roles:
    - role: valet.openstack.valet_keystone
"""
# No interpreter for localhost on purpose: the role must pick the one that can import keystoneclient.
INVENTORY = "[all]\nkeystone_admin_host ansible_connection=local\n"


@pytest.fixture(scope="module")
def collections_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("collections")
    os.makedirs(root / "ansible_collections" / "valet")
    os.symlink(REPO, root / "ansible_collections" / "valet" / "openstack")
    return str(root)


@pytest.fixture
def role_vars(keystone):
    tag = uuid.uuid4().hex[:8]
    return {
        "valet_keystone_auth": keystone.auth_dict(),
        "valet_keystone_region": keystone.region,
        "valet_keystone_user_name": "valet-%s" % tag,
        "valet_keystone_password": "role-pw-%s" % tag,
        "valet_keystone_service_name": "valet-%s" % tag,
        "valet_keystone_service_type": "valet-%s" % tag,
        "valet_keystone_api_url": "http://192.0.2.20:8090/v1",
        "valet_keystone_delegate_to": "keystone_admin_host",
    }


def play(tmp_path, collections_root, extra_vars, *args):
    """Run the role (args: more ansible-playbook arguments); return (json callback output, raw output)."""
    (tmp_path / "site.yml").write_text(PLAYBOOK)
    (tmp_path / "hosts.ini").write_text(INVENTORY)
    (tmp_path / "vars.json").write_text(json.dumps(extra_vars))
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=collections_root,
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
    )
    proc = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
            "-i",
            str(tmp_path / "hosts.ini"),
            str(tmp_path / "site.yml"),
            "-e",
            "@" + str(tmp_path / "vars.json"),
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(tmp_path),
        check=False,
    )
    try:
        return json.loads(proc.stdout), proc.stdout + proc.stderr
    except ValueError:
        raise AssertionError("ansible-playbook did not print JSON:\n" + proc.stdout + proc.stderr) from None


def stats(out):
    return out["stats"]["keystone_admin_host"]


def failure(out):
    """(task name, msg) of the task that failed the play (the last failed one: rescues come last)."""
    for task in reversed(out["plays"][0]["tasks"]):
        res = task["hosts"].get("keystone_admin_host", {})
        if res.get("failed") and not res.get("ignored"):
            # a looped task fails with "One or more items failed": the reasons are per item
            msgs = [res.get("msg", "")] + [r.get("msg", "") for r in res.get("results", []) if r.get("failed")]
            return task["task"]["name"], "\n".join(msgs)
    return None


def footprint(kc, role_vars):
    users = kc.users.list(name=role_vars["valet_keystone_user_name"], domain="default")
    services = kc.services.list(name=role_vars["valet_keystone_service_name"])
    endpoints = kc.endpoints.list(service=services[0]) if services else []
    return users, services, endpoints


def readback_ran(out):
    """Whether the read-back (verify.yml, the module again in check mode) ran, not skipped."""
    res = [
        task["hosts"].get("keystone_admin_host", {})
        for task in out["plays"][0]["tasks"]
        if task["task"]["name"].endswith(" : Read the footprint back (check mode)")
    ]
    assert len(res) == 1, [task["task"]["name"] for task in out["plays"][0]["tasks"]]
    return not res[0].get("skipped")


def ran(out, suffix):
    """Whether a task whose name ends with suffix ran (not skipped) on the host."""
    return any(
        task["task"]["name"].endswith(suffix) and not task["hosts"].get("keystone_admin_host", {}).get("skipped")
        for task in out["plays"][0]["tasks"]
        if "keystone_admin_host" in task["hosts"]
    )


def test_converge_then_idempotent_then_absent(keystone, kc, role_vars, collections_root, tmp_path):
    out, raw = play(tmp_path, collections_root, role_vars)
    assert stats(out)["failures"] == 0, failure(out)
    assert stats(out)["changed"] >= 1
    assert readback_ran(out)
    # keystoneclient is importable, so pip is not even tried
    assert not ran(out, " : Install python-keystoneclient with pip")
    users, services, endpoints = footprint(kc, role_vars)
    assert len(users) == 1 and len(services) == 1
    assert sorted((e.interface, e.url) for e in endpoints) == [
        ("admin", "http://192.0.2.20:8090/v1"),
        ("internal", "http://192.0.2.20:8090/v1"),
        ("public", "http://192.0.2.20:8090/v1"),
    ]

    def valet_token():
        # a new plugin each time: a plugin caches its token
        auth = ks_v3.Password(
            auth_url=keystone.auth_url,
            username=role_vars["valet_keystone_user_name"],
            password=role_vars["valet_keystone_password"],
            user_domain_id="default",
            project_name="service",
            project_domain_id="default",
        )
        return ks_session.Session(auth=auth).get_token()

    assert valet_token()
    # Least privilege (issue 24.8): the service role on the service project, nothing more.
    user = users[0]
    granted = {a.role["id"] for a in kc.role_assignments.list(user=user)}
    assert {kc.roles.get(r).name for r in granted} == {"service"}
    assert role_vars["valet_keystone_password"] not in raw
    assert keystone.admin_password not in raw

    out, raw = play(tmp_path, collections_root, role_vars)
    assert stats(out)["failures"] == 0, failure(out)
    assert stats(out)["changed"] == 0
    # nothing changed, so nothing to read back: the ensure has just found every object as wanted
    assert not readback_ran(out)

    # one override moves only the public endpoint, in place
    ids = {e.interface: e.id for e in endpoints}
    out, _ = play(tmp_path, collections_root, dict(role_vars, valet_keystone_public_url="https://valet.example.org/v1"))
    assert stats(out)["failures"] == 0, failure(out)
    assert stats(out)["changed"] == 1
    now = {e.interface: (e.id, e.url) for e in footprint(kc, role_vars)[2]}
    assert now["public"] == (ids["public"], "https://valet.example.org/v1")
    assert now["internal"] == (ids["internal"], "http://192.0.2.20:8090/v1")

    absent = {k: v for k, v in role_vars.items() if k != "valet_keystone_password"}
    absent["valet_keystone_state"] = "absent"
    out, _ = play(tmp_path, collections_root, absent)
    assert stats(out)["failures"] == 0, failure(out)
    assert footprint(kc, role_vars) == ([], [], [])
    with pytest.raises(ks_exc.Unauthorized):
        valet_token()


@pytest.mark.parametrize(
    "change, variable",
    [
        ({"valet_keystone_password": ""}, "valet_keystone_password"),
        ({"valet_keystone_api_url": "http://192.0.2.20:99999/v1"}, "valet_keystone_api_url"),
        ({"valet_keystone_api_url": "192.0.2.20:8090/v1"}, "valet_keystone_api_url"),
        ({"valet_keystone_admin_url": "ftp://192.0.2.20/v1"}, "valet_keystone_admin_url"),
        ({"valet_keystone_region": ""}, "valet_keystone_region"),
        ({"valet_keystone_auth": {}}, "valet_keystone_auth"),
        ({"valet_keystone_state": "gone"}, "valet_keystone_state"),
    ],
)
def test_wrong_input_fails_before_any_change(kc, role_vars, collections_root, tmp_path, change, variable):
    before = len(kc.endpoints.list())
    out, raw = play(tmp_path, collections_root, dict(role_vars, **change))
    assert stats(out)["failures"] == 1
    name, msg = failure(out)
    assert variable in msg, (name, msg)
    assert stats(out)["changed"] == 0
    assert footprint(kc, role_vars) == ([], [], [])
    assert len(kc.endpoints.list()) == before


def test_keystone_refusal_shows_the_module_reason(kc, role_vars, collections_root, tmp_path):
    """The module task is no_log; its reason must still reach the user (the module masks secrets)."""
    out, raw = play(tmp_path, collections_root, dict(role_vars, valet_keystone_region="NoSuchRegion"))
    assert stats(out)["failures"] == 1
    name, msg = failure(out)
    assert "NoSuchRegion" in msg and "RegionOne" in msg, (name, msg)
    assert footprint(kc, role_vars) == ([], [], [])
    assert role_vars["valet_keystone_password"] not in raw
    assert role_vars["valet_keystone_auth"]["password"] not in raw


def new_bare_python(venv):
    """A Python that cannot import keystoneclient (a new venv: pip and nothing else)."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    assert subprocess.run([python, "-c", "import keystoneclient"], capture_output=True, check=False).returncode
    return python


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory):
    """Shared by the tests that leave it without keystoneclient."""
    return new_bare_python(tmp_path_factory.mktemp("bare-venv"))


def test_missing_keystoneclient_is_installed_then_the_footprint_made(kc, role_vars, collections_root, tmp_path):
    """The module's missing_required_lib failure sends the run to pip (the package index pip is
    configured with, as for the test venv itself); the ensure then runs again and succeeds."""
    python = new_bare_python(tmp_path / "venv")
    out, raw = play(tmp_path, collections_root, dict(role_vars, valet_keystone_python=python))
    assert stats(out)["failures"] == 0, failure(out)
    assert ran(out, " : Install python-keystoneclient with pip")
    assert ran(out, " : Ensure the Valet footprint again, now that keystoneclient is installed")
    users, services, endpoints = footprint(kc, role_vars)
    assert len(users) == 1 and len(services) == 1 and len(endpoints) == 3
    assert role_vars["valet_keystone_password"] not in raw
    # The next run finds keystoneclient in place: no pip, and the footprint goes.
    absent = {k: v for k, v in role_vars.items() if k != "valet_keystone_password"}
    out, _ = play(tmp_path, collections_root, dict(absent, valet_keystone_python=python, valet_keystone_state="absent"))
    assert stats(out)["failures"] == 0, failure(out)
    assert not ran(out, " : Install python-keystoneclient with pip")
    assert footprint(kc, role_vars) == ([], [], [])


def test_missing_keystoneclient_is_installed_with_pip(kc, role_vars, collections_root, tmp_path, bare_python):
    """No import check: the module's missing_required_lib failure sends the run to pip, then the
    ensure runs again. --no-index makes that pip fail here (no package index in the tests), which
    proves pip was tried and that its reason is shown, with nothing changed in Keystone."""
    extra = dict(role_vars, valet_keystone_python=bare_python, valet_keystone_pip_extra_args="--no-index")
    out, raw = play(tmp_path, collections_root, extra)
    assert stats(out)["failures"] == 1
    assert ran(out, " : Install python-keystoneclient with pip")
    name, msg = failure(out)
    assert "python-keystoneclient" in msg and "no matching distribution" in msg.lower(), (name, msg)
    assert footprint(kc, role_vars) == ([], [], [])
    assert role_vars["valet_keystone_password"] not in raw


def test_missing_keystoneclient_in_check_mode(kc, role_vars, collections_root, tmp_path, bare_python):
    """Check mode installs nothing, so it cannot read the footprint: it says so and what the real run installs."""
    extra = dict(role_vars, valet_keystone_python=bare_python)
    out, raw = play(tmp_path, collections_root, extra, "--check")
    assert stats(out)["failures"] == 1
    assert not ran(out, " : Install python-keystoneclient with pip")
    name, msg = failure(out)
    assert "Failed to import the required Python library (python-keystoneclient" in msg, (name, msg)
    assert "check mode: the real run installs python-keystoneclient, keystoneauth1 with pip first" in msg, msg
    assert subprocess.run([bare_python, "-c", "import keystoneclient"], capture_output=True, check=False).returncode
