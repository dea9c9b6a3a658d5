"""GroupAssignment and ValetLifecyclePlugin loaded and driven by Heat 27's own code."""

import os

import pytest
from valet_sides import GROUP_TEMPLATE as PLUGIN_DIR_TEMPLATE
from valet_sides import make_stack
from valet_sides import reload


def test_resource_loads_through_plugin_dirs(heat):
    from heat.engine import resources

    from valet_os import paths

    cls = resources.global_env().get_class("ATT::Valet::GroupAssignment")
    assert cls.__name__ == "GroupAssignment"
    # Loaded from the plugin dir as a bare file, not from the valet_os package.
    source = cls.validate.__code__.co_filename
    assert os.path.dirname(source) == paths.heat_plugin_dir()


@pytest.mark.parametrize(
    "props,error",
    [
        ("group_type: affinity, level: host", None),
        ("group_type: diversity, level: rack", None),
        ("group_type: exclusivity, level: host, group_name: gold", None),
        ("group_type: exclusivity, level: host", "group_name is required when group_type is exclusivity"),
        ("group_type: affinity, level: host, group_name: gold", "group_name is only allowed"),
        ("group_type: together, level: host", '"together" is not an allowed value'),
        ("group_type: affinity, level: datacenter", '"datacenter" is not an allowed value'),
        ("level: host", "Property group_type not assigned"),
        ("group_type: affinity", "Property level not assigned"),
    ],
)
def test_validation(heat, props, error):
    from heat.common import exception

    text = (
        """
heat_template_version: 2015-04-30
resources:
  a: {type: OS::Heat::None}
  g:
    type: ATT::Valet::GroupAssignment
    properties: {%s, resources: [{get_resource: a}]}
"""
        % props
    )
    stk = make_stack(heat, text)
    if error is None:
        stk.validate()
    else:
        with pytest.raises(exception.StackValidationFailed) as exc:
            stk.validate()
        assert error in str(exc.value)


def test_missing_resources_property_is_rejected(heat):
    from heat.common import exception

    stk = make_stack(
        heat,
        """
heat_template_version: 2015-04-30
resources:
  g:
    type: ATT::Valet::GroupAssignment
    properties: {group_type: affinity, level: host}
""",
    )
    with pytest.raises(exception.StackValidationFailed, match="Property resources not assigned"):
        stk.validate()


def test_plugin_found_through_entry_points(heat):
    from heat.common import lifecycle_plugin_utils

    from valet_os.heat.plugins import ValetLifecyclePlugin

    found = lifecycle_plugin_utils.get_plug_point_class_instances()
    assert any(isinstance(p, ValetLifecyclePlugin) for p in found)


def test_create_update_delete_send_the_plan(heat, valet_conf, emulator):
    stk = make_stack(heat, PLUGIN_DIR_TEMPLATE)
    stk.store()
    stk.create()
    assert stk.state == ("CREATE", "COMPLETE"), stk.status_reason
    (post,) = emulator.requests
    assert (post["method"], post["path"], post["token"]) == ("POST", "/v1/plans", True)
    body = post["body"]
    assert body["plan_name"] == "teststack" and body["stack_id"] == stk.id
    assert body["timeout"] == "60 sec"
    group_uuid = stk["group"].uuid
    assert body["resources"] == {
        group_uuid: {
            "name": "group",
            "type": "ATT::Valet::GroupAssignment",
            "properties": {"group_type": "affinity", "level": "host", "resources": [stk["a"].uuid, stk["b"].uuid]},
        }
    }
    emulator.clear()

    new = make_stack(heat, PLUGIN_DIR_TEMPLATE, params={"parameters": {"kind": "diversity"}})
    stk.update(new)
    assert stk.state == ("UPDATE", "COMPLETE"), stk.status_reason
    (put,) = emulator.requests
    assert (put["method"], put["path"]) == ("PUT", "/v1/plans/" + stk.id)
    assert put["body"]["action"] == "update"
    props = put["body"]["resources"][group_uuid]["properties"]
    assert props["group_type"] == "diversity"
    assert props["resources"] == [stk["a"].uuid, stk["b"].uuid]
    emulator.clear()

    stack_id = stk.id
    stk = reload(stk)  # as heat-engine does for every operation
    stk.delete()
    assert stk.state == ("DELETE", "COMPLETE"), stk.status_reason
    (delete,) = emulator.requests
    assert (delete["method"], delete["path"]) == ("DELETE", "/v1/plans/" + stack_id)
    assert emulator.state.plans == {}


def test_update_of_unknown_plan_falls_back_to_post(heat, valet_conf, emulator):
    valet_conf.set_override("stack_scheduler_hints", False)
    stk = make_stack(heat, PLUGIN_DIR_TEMPLATE)
    stk.store()
    stk.create()  # before Valet: no plan
    assert emulator.requests == []
    valet_conf.set_override("stack_scheduler_hints", True)
    stk.update(make_stack(heat, PLUGIN_DIR_TEMPLATE))
    assert stk.state == ("UPDATE", "COMPLETE"), stk.status_reason
    assert [(r["method"], r["path"]) for r in emulator.requests] == [
        ("PUT", "/v1/plans/" + stk.id),
        ("POST", "/v1/plans"),
    ]
    # Deleting a stack valet-api never heard of is fine too.
    emulator.state.plans.clear()
    stk = reload(stk)
    stk.delete()
    assert stk.state == ("DELETE", "COMPLETE"), stk.status_reason


SERVERS_TEMPLATE = """
heat_template_version: 2015-04-30
resources:
  s1:
    type: OS::Nova::Server
    properties: {flavor: m1.small, image: cirros}
  s2:
    type: OS::Nova::Server
    properties: {flavor: m1.small, image: cirros}
  s3:
    type: OS::Nova::Server
    properties: {flavor: m1.small, image: cirros}
  pair:
    type: ATT::Valet::GroupAssignment
    properties:
      group_type: affinity
      level: host
      resources: [{get_resource: s1}, {get_resource: s2}]
  apart:
    type: ATT::Valet::GroupAssignment
    properties:
      group_type: diversity
      level: host
      resources: [{get_resource: pair}, {get_resource: s3}]
"""


def test_nested_groups_resolve_to_member_uuids(heat, valet_conf, emulator):
    from heat.common import lifecycle_plugin_utils

    stk = make_stack(heat, SERVERS_TEMPLATE)
    stk.store()
    stk._store_resources()  # what Stack.create does just before the pre-ops
    lifecycle_plugin_utils.do_pre_ops(stk.context, stk, None, stk.CREATE)
    (post,) = emulator.requests
    res = post["body"]["resources"]
    uuid = {n: stk[n].uuid for n in ("s1", "s2", "s3", "pair", "apart")}
    assert set(res) == set(uuid.values())
    assert res[uuid["apart"]]["properties"]["resources"] == [uuid["pair"], uuid["s3"]]
    assert res[uuid["pair"]]["properties"]["resources"] == [uuid["s1"], uuid["s2"]]
    assert res[uuid["s1"]] == {
        "name": "s1",
        "type": "OS::Nova::Server",
        "properties": {"flavor": "m1.small", "image": "cirros"},
    }
    # valet-api can place from it: s1 and s2 together, s3 elsewhere.
    from valet_os.common import client

    api = client.ValetClient(valet_conf)
    hosts = ["h1", "h2", "h3"]
    where = {n: api.place(uuid[n], hosts, "instance-" + n)["location"] for n in ("s1", "s2", "s3")}
    assert where["s1"] == where["s2"] != where["s3"]


@pytest.mark.parametrize("mode", ["reject", "yield"])
@pytest.mark.parametrize("fault", ["refuse", "down", "error500", "unauthorized"])
def test_valet_unavailable_follows_failure_mode(heat, valet_conf, emulator, caplog, mode, fault):
    valet_conf.set_override("failure_mode", mode, group="valet")
    if fault == "down":
        emulator.stop()
    else:
        emulator.set_fault(fault)
    stk = make_stack(heat, PLUGIN_DIR_TEMPLATE)
    stk.store()
    with caplog.at_level("WARNING"):
        stk.create()
    if mode == "reject":
        assert stk.state == ("CREATE", "FAILED")
        assert "failure_mode=reject" in stk.status_reason
        assert "Valet unavailable" in stk.status_reason
    else:
        assert stk.state == ("CREATE", "COMPLETE"), stk.status_reason
        assert any("failure_mode=yield" in r.getMessage() for r in caplog.records)


def test_error_reply_fails_with_explanation(heat, valet_conf, emulator):
    """A 4xx verdict fails the stack even in yield mode, quoting valet-api."""
    valet_conf.set_override("failure_mode", "yield", group="valet")
    stk = make_stack(heat, PLUGIN_DIR_TEMPLATE)
    stk.store()
    stk.create()
    assert stk.state == ("CREATE", "COMPLETE"), stk.status_reason
    again = make_stack(heat, PLUGIN_DIR_TEMPLATE, name="again")
    again.store()
    # Same stack id as a plan valet-api already has: it answers 409 with an explanation.
    from valet_os.heat.plugins import ValetLifecyclePlugin

    with pytest.raises(Exception) as exc:
        ValetLifecyclePlugin().do_pre_op(stk.context, stk, None, "CREATE")
    assert "already exists" in str(exc.value) and "HTTP 409" in str(exc.value)


def test_disabled_without_stack_scheduler_hints(heat, valet_conf, emulator):
    valet_conf.set_override("stack_scheduler_hints", False)
    stk = make_stack(heat, PLUGIN_DIR_TEMPLATE)
    stk.store()
    stk.create()
    assert stk.state == ("CREATE", "COMPLETE")
    assert emulator.requests == []


# The update adds c to the group (and replaces nothing): c gets its row, so its uuid, mid-update.
TEMPLATE_WITH_C = PLUGIN_DIR_TEMPLATE.replace(
    "  b: {type: OS::Heat::None}\n", "  b: {type: OS::Heat::None}\n  c: {type: OS::Heat::None}\n"
).replace("[{get_resource: a}, {get_resource: b}]", "[{get_resource: a}, {get_resource: b}, {get_resource: c}]")


def test_legacy_update_sends_a_new_member_with_its_uuid_before_creating_it(heat, valet_conf, emulator, monkeypatch):
    from heat.engine.resources.openstack.heat import none_resource

    stk = make_stack(heat, PLUGIN_DIR_TEMPLATE)
    stk.store()
    stk.create()
    assert stk.state == ("CREATE", "COMPLETE"), stk.status_reason
    group_uuid, a, b = stk["group"].uuid, stk["a"].uuid, stk["b"].uuid
    emulator.clear()

    # What valet-api had heard when Heat created c (for a server: when Nova was asked).
    heard_at_create = {}
    real_create = none_resource.NoneResource.handle_create

    def create(res):
        heard_at_create[res.name] = [r["body"] for r in emulator.requests if r["method"] == "PUT"]
        return real_create(res)

    monkeypatch.setattr(none_resource.NoneResource, "handle_create", create)
    stk.update(make_stack(heat, TEMPLATE_WITH_C))
    assert stk.state == ("UPDATE", "COMPLETE"), stk.status_reason
    c = stk["c"].uuid
    last = heard_at_create["c"][-1]
    assert (last["action"], last["resources"][group_uuid]["properties"]["resources"]) == ("update", [a, b, c])
    # No PUT ever named a member by its bare name.
    for body in (r["body"] for r in emulator.requests if r["method"] == "PUT"):
        assert set(body["resources"][group_uuid]["properties"]["resources"]) <= {a, b, c}
    assert emulator.state.find_plan(stk.id)["resources"][group_uuid]["properties"]["resources"] == [a, b, c]


def test_plan_carries_the_stack_owners_project(heat, valet_conf, emulator):
    stk = make_stack(heat, PLUGIN_DIR_TEMPLATE)
    stk.store()
    stk.create()
    (post,) = emulator.requests
    assert post["body"]["project_id"] == stk.tenant_id == "test_tenant_id"  # the owner, from Heat's context
    assert emulator.state.find_plan(stk.id)["project_id"] == "test_tenant_id"


@pytest.mark.parametrize("fault", ["keystone-down", "bad-password", "error500", "not-json", "plain-text-400"])
def test_tenant_sees_no_internals(heat, valet_conf, emulator, keystone, caplog, fault):
    """The status reason a tenant reads names no Keystone URL, no Valet user, no raw reply."""
    import bad_servers

    server = None
    if fault == "keystone-down":
        valet_conf.set_override("auth_url", "http://127.0.0.1:9/v3", group="valet")
    elif fault == "bad-password":
        valet_conf.set_override("password", "wrong-secret", group="valet")
    elif fault == "error500":
        emulator.set_fault("error500")
    else:
        payload, status = {
            "not-json": (b"<html>internal detail 10.0.0.7</html>", "201 Created"),
            "plain-text-400": (b"internal detail 10.0.0.7", "400 Bad Request"),
        }[fault]
        server = bad_servers.BadServer(bad_servers.canned(payload, status)).__enter__()
        valet_conf.set_override("url", server.url, group="valet")
    try:
        stk = make_stack(heat, PLUGIN_DIR_TEMPLATE)
        stk.store()
        with caplog.at_level("WARNING"):
            stk.create()
    finally:
        if server is not None:
            server.__exit__()
    reason = stk.status_reason
    assert stk.state == ("CREATE", "FAILED"), reason
    for secret in (keystone.url, "127.0.0.1", "'valet'", "wrong-secret", "injected internal error", "internal detail"):
        assert secret not in reason
    request_id = stk.context.request_id
    assert reason.endswith("request %s" % request_id)
    # The service log has the details, under the same request id.
    logged = [r.getMessage() for r in caplog.records if request_id in r.getMessage()]
    assert logged and any(("127.0.0.1" in m or "valet" in m) for m in logged), logged


# The update adds a group h over two new members: Heat creates c and d before h (h refers to them).
TEMPLATE_WITH_NEW_GROUP = (
    PLUGIN_DIR_TEMPLATE
    + """
  c: {type: OS::Heat::None}
  d: {type: OS::Heat::None}
  h:
    type: ATT::Valet::GroupAssignment
    properties:
      group_type: diversity
      level: host
      resources: [{get_resource: c}, {get_resource: d}]
"""
)


def test_legacy_update_plans_a_new_group_before_its_new_members_are_created(heat, valet_conf, emulator, monkeypatch):
    from heat.engine.resources.openstack.heat import none_resource

    from valet_os.heat import plan

    stk = make_stack(heat, PLUGIN_DIR_TEMPLATE)
    stk.store()
    stk.create()
    emulator.clear()
    heard_at_create = {}
    real_create = none_resource.NoneResource.handle_create

    def create(res):
        heard_at_create[res.name] = emulator.state.find_plan(stk.id)["resources"]
        return real_create(res)

    monkeypatch.setattr(none_resource.NoneResource, "handle_create", create)
    stk.update(make_stack(heat, TEMPLATE_WITH_NEW_GROUP))
    assert stk.state == ("UPDATE", "COMPLETE"), stk.status_reason
    c, d, h = stk["c"].uuid, stk["d"].uuid, stk["h"].uuid
    # Heat creates c and d in either order. When the second of them was created valet-api knew
    # h's rule over both (h had no row yet: a provisional id).
    provisional = plan.provisional_id(stk.id, "h")
    second = [name for name in heard_at_create if name in ("c", "d")][-1]
    assert heard_at_create[second][provisional]["properties"]["resources"] == [c, d]
    # Once h has its row, the plan holds it under its uuid, and the provisional id is gone.
    final = emulator.state.find_plan(stk.id)["resources"]
    assert final[h]["properties"] == {"group_type": "diversity", "level": "host", "resources": [c, d]}
    assert provisional not in final
