"""The plugins, loaded by Heat 27 and Nova 34, against the real valet-api (not the emulator).

Heat's lifecycle plugin sends the stack's plan; Nova's filter asks for each server's host: the
bodies are the plugins' own. valet-api runs behind auth_token with the real Keystone fixture.
"""

import uuid

import pytest
from valet_api_fakes import FakeCloud
from valet_api_fakes import Served
from valet_api_fakes import make_conf
from valet_api_fakes import rule_violations
from valet_api_fakes import sync
from valet_sides import load_nova
from valet_sides import make_stack

HOSTS = ["cmp-%04d" % i for i in range(4)]


@pytest.fixture(scope="module")
def valet_api(keystone, tmp_path_factory):
    from valet_api import engine
    from valet_api import wsgi

    cloud = FakeCloud(engine.Host(name=h, rack=h, free={"VCPU": 8, "MEMORY_MB": 16384, "DISK_GB": 160}) for h in HOSTS)
    conf = make_conf("sqlite:///%s" % (tmp_path_factory.mktemp("valet") / "valet.sqlite"), "keystone", keystone)
    sync(conf)
    served = Served(wsgi.init_application(conf, cloud=cloud))
    yield served
    served.stop()


@pytest.fixture
def real_conf(valet_conf, valet_api):
    valet_conf.set_override("url", valet_api.url, group="valet")
    return valet_conf


@pytest.fixture(scope="module")
def nova():
    load_nova()
    from nova.scheduler import filters
    from nova.scheduler import host_manager

    return filters, host_manager


def _filter(nova):
    filters, host_manager = nova
    handler = filters.HostFilterHandler()
    (cls,) = handler.get_matching_classes(["valet_os.nova.valet_filter.ValetFilter"])
    hosts = [host_manager.HostState(h, h, None) for h in HOSTS]
    return handler, cls(), hosts


def _spec(hint=None, instance_uuid=None):
    from nova import objects

    return objects.RequestSpec(
        instance_uuid=instance_uuid or str(uuid.uuid4()),
        scheduler_hints={"heat_resource_uuid": [hint]} if hint else {},
        num_instances=1,
        flavor=objects.Flavor(name="m1.small"),
    )


def test_heat_plans_the_stack_and_nova_lands_each_server_where_planned(heat, nova, real_conf):
    from heat.common import lifecycle_plugin_utils
    from test_heat_plugin import SERVERS_TEMPLATE

    from valet_os.common import client

    stk = make_stack(heat, SERVERS_TEMPLATE)
    stk.store()
    stk._store_resources()  # what Stack.create does just before the pre-ops
    lifecycle_plugin_utils.do_pre_ops(stk.context, stk, None, stk.CREATE)
    api = client.ValetClient(real_conf)
    plan = api.request("GET", "/plans/" + stk.id)[1]["plan"]
    uuid_of = {n: stk[n].uuid for n in ("s1", "s2", "s3")}
    where = {u: p["location"] for u, p in plan["placements"].items()}
    assert set(where) == set(uuid_of.values())
    assert rule_violations(plan["resources"], where, lambda h: h) == []

    handler, flt, hosts = _filter(nova)
    landed = {}
    for name, u in uuid_of.items():
        (host,) = handler.get_filtered_objects([flt], hosts, _spec(hint=u))
        landed[name] = host.host
    assert landed == {n: where[u] for n, u in uuid_of.items()}
    assert landed["s1"] == landed["s2"] != landed["s3"]

    lifecycle_plugin_utils.do_pre_ops(stk.context, stk, None, stk.DELETE)
    assert api.delete_plan(stk.id) is False  # the plugin's delete already removed it


def test_nova_without_a_heat_hint_gets_an_adhoc_plan_then_a_replan(nova, real_conf):
    handler, flt, hosts = _filter(nova)
    spec = _spec()
    (first,) = handler.get_filtered_objects([flt], hosts, spec)
    # Rescheduled to other hosts: the plan exists (409), the filter asks for a placement among them.
    others = [h for h in hosts if h.host != first.host]
    (second,) = handler.get_filtered_objects([flt], others, spec)
    assert second.host != first.host
