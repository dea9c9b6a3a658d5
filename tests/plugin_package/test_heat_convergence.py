"""Valet plans under Heat 27's convergence engine, driven through Stack.converge_stack.

Heat's traversal runs as Heat runs it (resource rows stored, dependencies computed, sync
points written), in this thread instead of an engine thread; only the RPC cast that hands
each resource to an engine worker (WorkerClient.check_resource) is recorded instead of
sent, as there is no message bus. That cast is the moment a resource starts: the plan must
reach valet-api before the first one, and a refused plan must leave it uncalled. The real
traversal, workers included, runs on the test hosts (molecule default and venv scenarios).
"""

import logging
from unittest import mock

import pytest
from valet_sides import GROUP_TEMPLATE as TEMPLATE
from valet_sides import make_stack

# The update adds c to the group: under convergence its row (and uuid) exists before it starts.
TEMPLATE_WITH_C = TEMPLATE.replace(
    "  b: {type: OS::Heat::None}\n", "  b: {type: OS::Heat::None}\n  c: {type: OS::Heat::None}\n"
).replace("[{get_resource: a}, {get_resource: b}]", "[{get_resource: a}, {get_resource: b}, {get_resource: c}]")


class Traversal:
    """Runs converge_stack in this thread; records the resources handed to workers."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.started = []  # resource ids Heat handed to its workers
        self.requests_at_start = []  # how many valet-api requests were made by then

    def _check_resource(self, cnxt, rsrc_id, *args, **kwargs):
        self.started.append(rsrc_id)
        self.requests_at_start.append(len(self.emulator.requests))

    def run(self, stk, action, template=None, new_stack=None, pre_converge=None):
        from heat.engine import template as tmpl

        if template is None:
            template = tmpl.Template.create_empty_template(from_template=stk.t) if action == stk.DELETE else stk.t
        return self.call(
            stk, stk.converge_stack, template=template, action=action, new_stack=new_stack, pre_converge=pre_converge
        )

    def call(self, stk, method, *args, **kwargs):
        """method(*args, **kwargs) with the traversals it starts run here."""
        from heat.rpc import worker_client
        from heat.tests.engine import tools

        stk.thread_group_mgr = tools.DummyThreadGroupManager()
        del self.started[:], self.requests_at_start[:]
        with mock.patch.object(worker_client.WorkerClient, "check_resource", self._check_resource):
            method(*args, **kwargs)
        return stk


def rows(stk):
    """name -> uuid of the stack's resource rows in Heat's database (latest row per name)."""
    from heat.objects import resource as resource_objects

    found = resource_objects.Resource.get_all_by_stack(stk.context, stk.id)
    return {name: row.uuid for name, row in found.items()}


@pytest.fixture
def traversal(heat, emulator):
    return Traversal(emulator)


def convergence_stack(heat, text=TEMPLATE, **kwargs):
    stk = make_stack(heat, text, convergence=True, **kwargs)
    stk.store()
    return stk


def test_hook_is_installed_by_heat_loading_the_entry_point(heat):
    from heat.engine import stack

    from valet_os.heat import convergence

    method = stack.Stack._converge_create_or_update
    assert getattr(method, "_valet_convergence_hook", False) is True
    assert convergence.STATUS == {"state": "active", "heat": convergence.heat_version()}


def test_create_update_delete_send_the_plan_before_any_resource_starts(heat, valet_conf, emulator, traversal):
    stk = convergence_stack(heat)
    traversal.run(stk, stk.CREATE)
    assert stk.status == stk.IN_PROGRESS, stk.status_reason  # handed over to the workers
    uuid = rows(stk)
    (post,) = emulator.requests
    assert (post["method"], post["path"], post["token"]) == ("POST", "/v1/plans", True)
    assert post["body"] == {
        "plan_name": "teststack",
        "stack_id": stk.id,
        "timeout": "60 sec",
        "project_id": "test_tenant_id",  # the stack's owner (heat.tests.utils.dummy_context)
        "resources": {
            uuid["group"]: {
                "name": "group",
                "type": "ATT::Valet::GroupAssignment",
                "properties": {"group_type": "affinity", "level": "host", "resources": [uuid["a"], uuid["b"]]},
            }
        },
    }
    assert traversal.started and set(traversal.requests_at_start) == {1}
    emulator.clear()

    # Update: c is added, the group changes kind. Kept resources keep their uuids.
    new = make_stack(heat, TEMPLATE_WITH_C, params={"parameters": {"kind": "diversity"}}, convergence=True)
    traversal.run(stk, stk.UPDATE, template=new.t, new_stack=new)
    after = rows(stk)
    assert {n: after[n] for n in uuid} == uuid
    (put,) = emulator.requests
    assert (put["method"], put["path"]) == ("PUT", "/v1/plans/" + stk.id)
    assert put["body"]["action"] == "update"
    assert put["body"]["resources"][uuid["group"]]["properties"] == {
        "group_type": "diversity",
        "level": "host",
        "resources": [uuid["a"], uuid["b"], after["c"]],
    }
    assert traversal.started and set(traversal.requests_at_start) == {1}
    emulator.clear()

    # Delete: Heat's own pre_converge (the service passes one that stops workers) still runs, after ours.
    calls = []
    traversal.run(stk, stk.DELETE, pre_converge=lambda: calls.append(len(emulator.requests)))
    (delete,) = emulator.requests
    assert (delete["method"], delete["path"]) == ("DELETE", "/v1/plans/" + stk.id)
    assert calls == [1]
    assert emulator.state.plans == {}


def test_rollback_of_a_failed_update_sends_the_previous_plan(heat, valet_conf, emulator, traversal):
    """A resource failing in an engine worker: the worker's stack starts the rollback traversal.

    That stack is loaded the way workers load it (from the traversal's cache), so its Resource
    objects carry no uuids: the plan must still name every resource by its row's uuid.
    """
    from heat.engine import stack

    stk = convergence_stack(heat)
    traversal.run(stk, stk.CREATE)
    uuid = rows(stk)
    new = make_stack(heat, TEMPLATE_WITH_C, params={"parameters": {"kind": "diversity"}}, convergence=True)
    new.disable_rollback = False
    traversal.run(stk, stk.UPDATE, template=new.t, new_stack=new)
    emulator.clear()

    in_worker = stack.Stack.load(stk.context, stack_id=stk.id, cache_data={})
    assert in_worker.in_convergence_check
    traversal.call(in_worker, in_worker.mark_failed, "Resource UPDATE failed: c broke")
    assert (in_worker.action, in_worker.status) == (stk.ROLLBACK, stk.IN_PROGRESS), in_worker.status_reason
    (put,) = emulator.requests
    assert (put["method"], put["path"]) == ("PUT", "/v1/plans/" + stk.id)
    assert put["body"]["resources"] == {
        uuid["group"]: {
            "name": "group",
            "type": "ATT::Valet::GroupAssignment",
            "properties": {"group_type": "affinity", "level": "host", "resources": [uuid["a"], uuid["b"]]},
        }
    }
    assert traversal.started and set(traversal.requests_at_start) == {1}


def test_refused_plan_fails_the_stack_before_any_resource_starts(heat, valet_conf, emulator, traversal):
    stk = convergence_stack(heat)
    stk.disable_rollback = True
    # valet-api already holds a plan for this stack id: it answers 409, a verdict on the plan.
    from valet_os.common import client

    client.ValetClient(valet_conf).create_plan({"plan_name": "other", "stack_id": stk.id, "resources": {}})
    emulator.clear()
    traversal.run(stk, stk.CREATE)
    assert (stk.action, stk.status) == (stk.CREATE, stk.FAILED)
    assert stk.status_reason.startswith("Valet refused CREATE of stack teststack: ")
    assert "already exists (HTTP 409)" in stk.status_reason
    assert traversal.started == []
    # Failed as Heat fails a stack: the stored state says so too.
    from heat.engine import stack

    stored = stack.Stack.load(stk.context, stack_id=stk.id)
    assert (stored.action, stored.status, stored.status_reason) == (stk.CREATE, stk.FAILED, stk.status_reason)


def test_refused_create_rolls_back_when_rollback_is_on(heat, valet_conf, emulator, traversal):
    valet_conf.set_override("failure_mode", "reject", group="valet")
    emulator.set_fault("error500")
    stk = convergence_stack(heat)
    stk.disable_rollback = False
    traversal.run(stk, stk.CREATE)
    # mark_failed started Heat's rollback, itself a traversal: the rollback of a create only
    # frees resources, so valet-api failing again does not stop it.
    assert stk.action == stk.ROLLBACK, (stk.action, stk.status, stk.status_reason)
    assert stk.status != stk.FAILED, stk.status_reason
    assert [(r["method"], r["path"]) for r in emulator.requests] == [
        ("POST", "/v1/plans"),
        ("DELETE", "/v1/plans/" + stk.id),
    ]


@pytest.mark.parametrize("mode", ["reject", "yield"])
@pytest.mark.parametrize("fault", ["down", "error500", "unauthorized"])
def test_valet_unavailable_follows_failure_mode(heat, valet_conf, emulator, traversal, caplog, mode, fault):
    valet_conf.set_override("failure_mode", mode, group="valet")
    if fault == "down":
        emulator.stop()
    else:
        emulator.set_fault(fault)
    stk = convergence_stack(heat)
    stk.disable_rollback = True
    with caplog.at_level(logging.WARNING):
        traversal.run(stk, stk.CREATE)
    if mode == "reject":
        assert (stk.action, stk.status) == (stk.CREATE, stk.FAILED)
        assert "Valet unavailable, CREATE of stack teststack rejected (failure_mode=reject)" in stk.status_reason
        assert traversal.started == []
    else:
        assert stk.status == stk.IN_PROGRESS, stk.status_reason
        assert traversal.started
        assert any("failure_mode=yield" in r.getMessage() for r in caplog.records)


def test_delete_goes_on_when_valet_fails(heat, valet_conf, emulator, traversal, caplog):
    stk = convergence_stack(heat)
    traversal.run(stk, stk.CREATE)
    emulator.set_fault("error500")
    with caplog.at_level(logging.WARNING):
        traversal.run(stk, stk.DELETE)
    assert stk.status != stk.FAILED, stk.status_reason
    assert traversal.started  # Heat went on deleting
    assert any("only frees resources" in r.getMessage() for r in caplog.records)


def test_nothing_sent_without_stack_scheduler_hints(heat, valet_conf, emulator, traversal):
    valet_conf.set_override("stack_scheduler_hints", False)
    stk = convergence_stack(heat)
    traversal.run(stk, stk.CREATE)
    assert emulator.requests == [] and traversal.started


def test_a_heat_whose_traversal_differs_is_left_alone(heat, caplog, monkeypatch):
    """A future Heat without pre_converge: nothing is wrapped, one error line names the version."""
    from heat.engine import stack

    from valet_os.heat import convergence

    def _converge_create_or_update(self, abandon=False):
        return "heat's own"

    monkeypatch.setattr(stack.Stack, "_converge_create_or_update", _converge_create_or_update)
    monkeypatch.setattr(convergence, "STATUS", {"state": "not installed", "heat": None})
    with caplog.at_level(logging.INFO):
        assert convergence.install() is False
    assert stack.Stack._converge_create_or_update is _converge_create_or_update
    assert convergence.STATUS["state"].startswith("unsupported: ")
    (line,) = [r for r in caplog.records if r.name == "valet_os.heat.convergence"]
    assert line.levelname == "ERROR"
    assert line.getMessage().startswith(
        "valet: Heat %s is not supported by valet-openstack's convergence hook" % convergence.heat_version()
    )


def test_install_twice_wraps_once(heat):
    from heat.engine import stack

    from valet_os.heat import convergence

    before = stack.Stack._converge_create_or_update
    assert convergence.install() is True
    assert stack.Stack._converge_create_or_update is before
