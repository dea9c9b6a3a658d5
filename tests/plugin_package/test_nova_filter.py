"""ValetFilter loaded by Nova's own HostFilterHandler, filtering real HostState objects."""

import uuid

import pytest
from valet_sides import load_nova

FILTER_PATH = "valet_os.nova.valet_filter.ValetFilter"


@pytest.fixture(scope="module")
def nova():
    load_nova()
    from nova.scheduler import filters
    from nova.scheduler import host_manager

    return filters, host_manager


def make_hosts(host_manager, count, prefix="cmp"):
    return [host_manager.HostState("%s-%04d" % (prefix, i), "%s-%04d" % (prefix, i), None) for i in range(count)]


def request_spec(hint=None, instance_uuid=None, project_id="tenant-project"):
    from nova import objects

    hints = {"heat_resource_uuid": [hint]} if hint else {}
    return objects.RequestSpec(
        instance_uuid=instance_uuid or str(uuid.uuid4()),
        project_id=project_id,
        scheduler_hints=hints,
        num_instances=1,
        flavor=objects.Flavor(name="m1.small"),
    )


def load_filter(filters):
    handler = filters.HostFilterHandler()
    classes = handler.get_matching_classes([FILTER_PATH])
    assert [c.__name__ for c in classes] == ["ValetFilter"]
    return handler, classes[0]()


def plan_two_servers(emulator, conf, group_type="diversity"):
    """A Heat-like plan in the emulator: two servers in one group. Returns their uuids."""
    from valet_os.common import client

    a, b, g = (str(uuid.uuid4()) for _ in range(3))
    server = {"type": "OS::Nova::Server", "properties": {"flavor": "m1.small"}}
    client.ValetClient(conf).create_plan(
        {
            "plan_name": "s",
            "stack_id": str(uuid.uuid4()),
            "timeout": "60 sec",
            "resources": {
                a: dict(server, name="a"),
                b: dict(server, name="b"),
                g: {
                    "name": "g",
                    "type": "ATT::Valet::GroupAssignment",
                    "properties": {"group_type": group_type, "level": "host", "resources": [a, b]},
                },
            },
        }
    )
    emulator.clear()
    return a, b


def test_hint_passes_exactly_the_chosen_host(nova, valet_conf, emulator):
    filters, host_manager = nova
    handler, flt = load_filter(filters)
    a, b = plan_two_servers(emulator, valet_conf)
    hosts = make_hosts(host_manager, 5)
    spec = request_spec(hint=a)
    passed = handler.get_filtered_objects([flt], hosts, spec)
    assert len(passed) == 1
    calls = emulator.requests
    assert [(c["method"], c["path"]) for c in calls] == [("POST", "/v1/placements/" + a)]
    assert calls[0]["token"] is True
    # project_id: the instance's owner, so that valet-api can enforce exclusivity membership.
    assert calls[0]["body"] == {
        "locations": [h.host for h in hosts],
        "resource_id": spec.instance_uuid,
        "project_id": "tenant-project",
    }
    # The emulator placed it: the host passed is the placement's location.
    placement = [p for p in valet_api_placements(emulator) if p["orchestration_id"] == a][0]
    assert passed[0].host == placement["location"]
    assert placement["project_id"] == "tenant-project"
    # Diversity: the second server of the group must land elsewhere.
    passed_b = handler.get_filtered_objects([flt], hosts, request_spec(hint=b))
    assert len(passed_b) == 1 and passed_b[0].host != passed[0].host


def valet_api_placements(emulator):
    with emulator.lock:
        return list(emulator.state.placements.values())


def test_replans_when_planned_host_is_not_a_candidate(nova, valet_conf, emulator):
    filters, host_manager = nova
    handler, flt = load_filter(filters)
    a, _ = plan_two_servers(emulator, valet_conf, group_type="affinity")
    hosts = make_hosts(host_manager, 4)
    first = handler.get_filtered_objects([flt], hosts, request_spec(hint=a))[0]
    others = [h for h in hosts if h.host != first.host]
    again = handler.get_filtered_objects([flt], others, request_spec(hint=a))
    assert len(again) == 1 and again[0].host != first.host


def test_without_hint_asks_for_an_adhoc_plan(nova, valet_conf, emulator):
    filters, host_manager = nova
    handler, flt = load_filter(filters)
    hosts = make_hosts(host_manager, 3)
    spec = request_spec()
    passed = handler.get_filtered_objects([flt], hosts, spec)
    assert len(passed) == 1
    (call,) = emulator.requests
    assert (call["method"], call["path"]) == ("POST", "/v1/plans")
    assert call["body"]["stack_id"] == spec.instance_uuid
    assert call["body"]["project_id"] == "tenant-project"
    assert emulator.state.plans[next(iter(emulator.state.plans))]["project_id"] == "tenant-project"
    assert call["body"]["locations"] == [h.host for h in hosts]
    assert list(call["body"]["resources"]) == [spec.instance_uuid]


def test_rebuild_is_not_valets_business(nova, valet_conf, emulator):
    """A rebuild keeps the instance on its host: every host passes, valet-api is not asked."""
    filters, host_manager = nova
    handler, flt = load_filter(filters)
    a, _ = plan_two_servers(emulator, valet_conf)
    hosts = make_hosts(host_manager, 3)
    spec = request_spec(hint=a)
    spec.scheduler_hints["_nova_check_type"] = ["rebuild"]
    assert handler.get_filtered_objects([flt], hosts, spec) == hosts
    assert emulator.requests == []


def test_one_valet_api_call_per_request_of_several_instances(nova, valet_conf, emulator):
    """Nova runs the filters once per instance; ours only for the first (the one Valet places)."""
    filters, host_manager = nova
    handler, flt = load_filter(filters)
    a, _ = plan_two_servers(emulator, valet_conf)
    hosts = make_hosts(host_manager, 4)
    spec = request_spec(hint=a)
    spec.num_instances = 2
    first = handler.get_filtered_objects([flt], hosts, spec, index=0)
    second = handler.get_filtered_objects([flt], hosts, spec, index=1)
    assert len(first) == 1 and second == hosts
    assert len(emulator.requests) == 1


# fault, emulator delay, what the log quotes, requests valet-api receives
FAULTS = [
    ("refuse", 0, "Remote end closed connection", 1),  # read, then dropped: not resent
    ("slow", 30, "Read timed out", 1),  # past read_timeout: not resent
    ("unauthorized", 0, "HTTP 401", 2),  # one resend with a new token
    ("error500", 0, "HTTP 500", 1),
    ("noplan", 0, "HTTP 404", 1),
    ("down", 0, "Errno 111", 0),
]


@pytest.mark.parametrize("mode", ["reject", "yield"])
@pytest.mark.parametrize("fault,delay,why,received", FAULTS)
def test_failure_modes(nova, valet_conf, emulator, caplog, mode, fault, delay, why, received):
    filters, host_manager = nova
    handler, flt = load_filter(filters)
    valet_conf.set_override("failure_mode", mode, group="valet")
    hint = str(uuid.uuid4())
    if fault == "down":
        emulator.stop()
    elif fault != "noplan":
        plan_two_servers(emulator, valet_conf)
        emulator.set_fault(fault, delay)
    hosts = make_hosts(host_manager, 4)
    with caplog.at_level("WARNING"):
        passed = handler.get_filtered_objects([flt], hosts, request_spec(hint=hint))
    assert len(emulator.requests) == received
    if mode == "reject":
        assert passed == []
    else:
        assert passed == hosts
    assert any(why in r.getMessage() and "failure_mode=%s" % mode in r.getMessage() for r in caplog.records), [
        r.getMessage() for r in caplog.records
    ]


@pytest.mark.parametrize("mode", ["reject", "yield"])
def test_reply_without_location(nova, valet_conf, emulator, caplog, mode):
    """A placement reply that names no host counts as a failure too."""
    filters, host_manager = nova
    handler, flt = load_filter(filters)
    valet_conf.set_override("failure_mode", mode, group="valet")
    a, _ = plan_two_servers(emulator, valet_conf)
    with emulator.lock:  # valet-api losing its mind: a placement with no location
        emulator.state.place = lambda plan, res, locations: {"orchestration_id": res}
    hosts = make_hosts(host_manager, 3)
    with caplog.at_level("WARNING"):
        passed = handler.get_filtered_objects([flt], hosts, request_spec(hint=a))
    assert passed == ([] if mode == "reject" else hosts)
    assert any("gave no location" in r.getMessage() for r in caplog.records)


def test_thousand_hosts_one_call_per_request_one_token(nova, valet_conf, emulator, keystone):
    filters, host_manager = nova
    handler, flt = load_filter(filters)
    hosts = make_hosts(host_manager, 1000)
    server = {"type": "OS::Nova::Server", "properties": {}}
    uuids = [str(uuid.uuid4()) for _ in range(5)]
    from valet_os.common import client

    client.ValetClient(valet_conf).create_plan(
        {"plan_name": "big", "stack_id": str(uuid.uuid4()), "resources": {u: dict(server, name=u) for u in uuids}}
    )
    emulator.clear()
    tokens_before = keystone.token_requests()
    chosen = []
    for u in uuids:
        passed = handler.get_filtered_objects([flt], hosts, request_spec(hint=u))
        assert len(passed) == 1
        chosen.append(passed[0].host)
    calls = emulator.requests
    assert [c["path"] for c in calls] == ["/v1/placements/" + u for u in uuids]
    assert all(len(c["body"]["locations"]) == 1000 for c in calls)
    assert keystone.token_requests() - tokens_before <= 1
