"""Valet plans through the test host's real heat-engine, under either of Heat's engines.

The rollout leaves Heat's engine as it is: Debian's heat.conf does not set convergence_engine,
so stacks run on the convergence engine, where the plans come from Valet's traversal hook.
The venv scenario runs this file too, on Heat 27. The upgrade from release 1.0 (legacy engine)
is test_upgrade_from_1_0.py.
"""

import os
import pathlib
import subprocess
import sys
import time

import pytest
from conftest import HEAT_LOG

NAME = "molecule-engines"
LEGACY = "molecule-legacy"
LEDGER = "/var/lib/valet_openstack/ini_ledger.json"
# The venv scenario (Heat 27) runs this file too: its own converge.yml and service Python.
SCENARIO = pathlib.Path(os.environ.get("MOLECULE_SCENARIO_DIRECTORY", pathlib.Path(__file__).parent.parent))


def _sql(host, query):
    return host.check_output(f'mysql -N -B -e "{query}"').strip()


def _stack_id(cloud, name):
    return cloud.openstack(f"stack show -f value -c id {name}").strip()


def _stacks_of(host, root_id):
    """id -> (name, convergence) of a stack and every stack nested below it."""
    rows = _sql(host, "SELECT id, name, convergence, owner_id FROM heat.stack WHERE deleted_at IS NULL")
    stacks = {}
    for line in rows.splitlines():
        sid, name, convergence, owner = line.split("\t")
        stacks[sid] = (name, convergence == "1", owner)
    found, todo = {}, [root_id]
    while todo:
        sid = todo.pop()
        found[sid] = stacks[sid][:2]
        todo += [s for s, (_n, _c, owner) in stacks.items() if owner == sid]
    return found


def _uuids(host, stack_id):
    """name -> Heat resource uuid of the stack's current resources, from Heat's database."""
    rows = _sql(
        host,
        "SELECT name, uuid FROM heat.resource WHERE stack_id='%s' AND (replaced_by IS NULL) ORDER BY id" % stack_id,
    )
    return dict(line.split("\t") for line in rows.splitlines())


def _run(cloud, verb, name, params=(), rollback=False):
    """stack create/update with the engines template; returns the state once settled."""
    template = cloud.put("engines-stack.yaml")
    cloud.put("engines-member.yaml")
    return cloud.run_stack(verb, name, template, params, rollback=rollback)[:2]


def _calls(cloud, method, path_prefix="/v1/plans"):
    """The requests of `method` valet-api answered since cloud.clear() (method and path)."""
    return [r for r in cloud.requests() if r["method"] == method and r["path"].startswith(path_prefix)]


def _plans(cloud, stack_ids):
    """stack id -> the plan valet-api keeps for it: the resources the plugin sent last."""
    plans = {sid: cloud.plan(sid) for sid in stack_ids}
    assert all(plans.values()), {sid: p is not None for sid, p in plans.items()}
    return plans


def _group(body, name):
    (res,) = [r for r in body["resources"].values() if r["name"] == name]
    return res["properties"]


def _restart_heat_engine(cloud):
    offset = cloud.log_size(HEAT_LOG)
    cloud.host.check_output("service heat-engine restart")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if "ATT::Valet::GroupAssignment" in cloud.log_since(HEAT_LOG, offset):
            return cloud.log_since(HEAT_LOG, offset)
        time.sleep(2)
    pytest.fail("heat-engine did not register the plugin again after the restart")


def _ansible(*args):
    """Run an ansible command against this scenario's inventory, as molecule's converge does."""
    bindir = pathlib.Path(sys.executable).parent
    cmd = [str(bindir / args[0]), "-i", os.environ["MOLECULE_INVENTORY_FILE"], *args[1:]]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res.stdout


def _heat_version(host):
    """The version of the Heat that heat-engine runs (Debian's python3-heat, or the venv's)."""
    engine = host.check_output("pgrep -o -a -f heat-engine")
    python = "/openstack/venvs/openstack/bin/python3" if "/openstack/venvs/" in engine else "python3"
    return host.check_output(
        f"cd / && {python} -c 'import heat.version as v; print(v.version_info.version_string())'"
    ).strip()


def test_rollout_leaves_heats_engine_as_it_was(host):
    # Debian's heat.conf has the option only as a comment: Heat's default, convergence, is used.
    lines = host.file("/etc/heat/heat.conf").content_string.splitlines()
    assert not [line for line in lines if line.strip().startswith("convergence_engine")]


def test_running_engine_installed_the_convergence_hook(host):
    log = host.file(HEAT_LOG).content_string
    assert f"valet: convergence hook active in Heat {_heat_version(host)}" in log


def test_create_update_rollback_delete_with_nested_stacks(cloud, host):
    cloud.delete_stack(NAME)
    cloud.clear()

    # Create: the top stack and the member stacks of the ResourceGroup each send their plan.
    assert _run(cloud, "create", NAME)[0] == "CREATE_COMPLETE"
    top = _stack_id(cloud, NAME)
    stacks = _stacks_of(host, top)
    assert len(stacks) == 4 and all(conv for _n, conv in stacks.values()), stacks  # all convergence
    # One POST per stack of the tree; what each sent, as valet-api keeps it.
    assert len(_calls(cloud, "POST")) == len(stacks)
    posts = _plans(cloud, stacks)
    uuid = _uuids(host, top)
    assert _group(posts[top], "apps") == {
        "group_type": "affinity",
        "level": "host",
        "resources": [uuid["app1"], uuid["app2"]],
    }
    assert set(posts[top]["resources"]) == {uuid["apps"]}
    members = [sid for sid, (name, _c) in stacks.items() if posts[sid]["resources"]]
    assert len(members) == 3  # the top stack and the two ResourceGroup members
    for sid in members:
        if sid == top:
            continue
        inner = _uuids(host, sid)
        assert _group(posts[sid], "pair")["resources"] == [inner["left"], inner["right"]]
        assert set(posts[sid]["resources"]) == {inner["pair"]}

    # Update: app3 is added to the group and the group changes kind.
    cloud.clear()
    assert _run(cloud, "update", NAME, ["kind=diversity", "extra=true"])[0] == "UPDATE_COMPLETE"
    after = _uuids(host, top)
    assert {n: after[n] for n in ("app1", "app2", "apps")} == {n: uuid[n] for n in ("app1", "app2", "apps")}
    assert [p["path"] for p in _calls(cloud, "PUT")].count(f"/v1/plans/{top}") == 1
    assert _group(cloud.plan(top), "apps") == {
        "group_type": "diversity",
        "level": "host",
        "resources": [uuid["app1"], uuid["app2"], after["app3"]],
    }

    # Update: app3 is removed again.
    cloud.clear()
    assert _run(cloud, "update", NAME, ["kind=diversity", "extra=false"])[0] == "UPDATE_COMPLETE"
    assert [p["path"] for p in _calls(cloud, "PUT")].count(f"/v1/plans/{top}") == 1
    assert _group(cloud.plan(top), "apps")["resources"] == [uuid["app1"], uuid["app2"]]

    # A failing update rolls back: valet-api first hears the new plan, then the old one again, and
    # keeps the old one.
    cloud.clear()
    state = _run(cloud, "update", NAME, ["kind=affinity", "fail=true"], rollback=True)
    assert state[0] == "ROLLBACK_COMPLETE", state
    assert [p["path"] for p in _calls(cloud, "PUT")].count(f"/v1/plans/{top}") == 2
    assert _group(cloud.plan(top), "apps")["group_type"] == "diversity"

    # Delete: every plan of the tree goes.
    cloud.clear()
    assert cloud.delete_stack(NAME) is None
    assert {d["path"] for d in _calls(cloud, "DELETE")} == {f"/v1/plans/{sid}" for sid in stacks}
    assert not [sid for sid in stacks if cloud.plan(sid) is not None]


def test_rejected_create_starts_no_resource(cloud, host):
    """failure_mode=reject (the converged value) with valet-api failing: no resource is touched."""
    name = "molecule-rejected"
    cloud.delete_stack(name)
    cloud.stop_valet_api()
    try:
        state = _run(cloud, "create", name)
    finally:
        cloud.start_valet_api()
    top = _stack_id(cloud, name)
    rows = _sql(host, "SELECT action, status FROM heat.resource WHERE stack_id='%s'" % top)
    cloud.delete_stack(name)
    assert state[0] == "CREATE_FAILED", state
    assert state[1].startswith("Valet unavailable, CREATE of stack %s rejected (failure_mode=reject)" % name)
    # Heat stored the rows (their uuids are in the plan) and started none of them.
    assert rows and set(rows.splitlines()) == {"INIT\tCOMPLETE"}, rows
