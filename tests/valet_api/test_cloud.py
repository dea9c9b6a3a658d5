"""valet_api.cloud against a real Placement and a stand-in Nova.

Placement is the real service (openstack-placement under gunicorn on loopback, SQLite; see
tests/placement_server.py): providers, inventories and allocations are made through its own API and
Cloud reads them over HTTP with keystoneauth1, as in a deployment. One test runs it behind
keystonemiddleware against the real Keystone fixture, with a Valet user holding only the service role.

Nova is too heavy to run here, so ``FakeNova`` is a loopback HTTP server answering the JSON shapes
of Nova's API reference for the four calls Cloud makes (``/os-hypervisors/detail``, paged;
``/os-aggregates``; ``/flavors/{id}``; ``/flavors/detail``), shaped by the microversion asked (uuid
hypervisor ids from 2.53, flavor extra_specs from 2.61), and answering 403 where Nova's policy would.
The molecule scenario covers real Nova.
"""

import json
import random
import socket
import subprocess
import sys
import threading
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs
from urllib.parse import urlparse

import pytest
from oslo_config import cfg
from placement_server import PlacementServer

from valet_api import cloud
from valet_api.conf import cloud as cloud_conf
from valet_api.conf import engine as engine_conf
from valet_api.engine import Host


def _mv(headers):
    """The compute microversion asked, as a tuple (2.1 when none)."""
    value = headers.get("OpenStack-API-Version", "compute 2.1").split()[-1]
    major, minor = value.split(".")
    return int(major), int(minor)


class FakeNova:
    """Nova's documented answers for the calls Cloud makes, from the lists it is given."""

    def __init__(self):
        self.hypervisors = []  # dicts: uuid, hypervisor_hostname, host, status, state
        self.aggregates = []  # dicts: id, name, hosts, metadata
        self.flavors = []  # dicts as Nova's flavor (id, name, vcpus, ram, disk, ...)
        self.max_limit = 1000  # Nova's [api] max_limit: page size
        self.forbidden = set()  # path prefixes answered 403, as Nova's default policy does for non-admins
        self.requests = []  # (path, headers)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.requests.append((self.path, dict(self.headers)))
                code, body = fake.answer(self.path, self.headers)
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/v2.1" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def count(self, prefix):
        return sum(1 for path, _ in self.requests if path.startswith("/v2.1" + prefix))

    def answer(self, raw_path, headers):
        if not headers.get("X-Auth-Token"):
            return 401, {"error": {"code": 401, "message": "Unauthorized"}}
        url = urlparse(raw_path)
        path, query = url.path[len("/v2.1") :], parse_qs(url.query)
        if any(path.startswith(p) for p in self.forbidden):
            return 403, {"forbidden": {"code": 403, "message": "Policy doesn't allow it to be performed."}}
        mv = _mv(headers)
        if path == "/os-hypervisors/detail":
            return 200, self._page("hypervisors", [self._hypervisor(h, mv) for h in self.hypervisors], query, mv)
        if path == "/os-aggregates":
            return 200, {"aggregates": [dict(a, availability_zone=None, deleted=False) for a in self.aggregates]}
        if path == "/flavors/detail":
            return 200, self._page("flavors", [self._flavor(f, mv) for f in self.flavors], query, mv)
        if path.startswith("/flavors/"):
            for f in self.flavors:
                if f["id"] == path[len("/flavors/") :]:
                    return 200, {"flavor": self._flavor(f, mv)}
            return 404, {"itemNotFound": {"code": 404, "message": "Flavor could not be found."}}
        return 404, {"itemNotFound": {"code": 404, "message": "not here"}}

    def _page(self, key, items, query, mv):
        limit = min(int(query.get("limit", [self.max_limit])[0]), self.max_limit)
        start = 0
        if "marker" in query:
            start = [str(i["id"]) for i in items].index(query["marker"][0]) + 1
        page = items[start : start + limit]
        body = {key: page}
        if len(page) == limit and start + limit < len(items):
            href = "http://nova.internal/v2.1/%s?limit=%d&marker=%s" % (key, limit, page[-1]["id"])
            body[key + "_links"] = [{"rel": "next", "href": href}]
        return body

    @staticmethod
    def _hypervisor(h, mv):
        return {
            "id": h["uuid"] if mv >= (2, 53) else 1,
            "hypervisor_hostname": h["hypervisor_hostname"],
            "state": h.get("state", "up"),
            "status": h.get("status", "enabled"),
            "hypervisor_type": "fake",
            "host_ip": "192.0.2.1",
            "service": {"id": str(uuid.uuid4()), "host": h["host"], "disabled_reason": None},
        }

    @staticmethod
    def _flavor(f, mv):
        out = {"OS-FLV-EXT-DATA:ephemeral": 0, "swap": "", "os-flavor-access:is_public": True, "links": []}
        out.update({k: v for k, v in f.items() if k != "extra_specs"})
        if mv >= (2, 61):
            out["extra_specs"] = f.get("extra_specs", {})
        return out


@pytest.fixture(scope="module")
def placement():
    with PlacementServer() as server:
        yield server


@pytest.fixture
def nova():
    fake = FakeNova()
    yield fake
    fake.close()


def make_conf(tmp_path, placement_url, nova_url, auth=None, **engine):
    """A ConfigOpts read from a valet.conf file, as valet-api reads /etc/valet/valet.conf."""
    auth = auth or {"auth_type": "admin_token", "endpoint": placement_url, "token": "admin"}
    lines = ["[cloud]"] + ["%s = %s" % kv for kv in auth.items()]
    lines += ["[placement]", "endpoint_override = %s" % placement_url]
    lines += ["[nova]", "endpoint_override = %s" % nova_url]
    lines += ["[engine]", "cloud_cache_seconds = 0", "status_timeout = 2"] + ["%s = %s" % kv for kv in engine.items()]
    path = tmp_path / "valet.conf"
    path.write_text("\n".join(lines) + "\n")
    conf = cfg.ConfigOpts()
    cloud_conf.register_opts(conf)
    engine_conf.register_opts(conf)
    conf(["--config-file", str(path)], project="valet", default_config_files=[])
    return conf


class Cloudlet:
    """One test's slice of the shared Placement: its hosts get fresh provider uuids."""

    def __init__(self, placement, nova):
        self.placement, self.nova = placement, nova
        self.tag = uuid.uuid4().hex[:6]

    def host(self, host, inventories, hypervisor_hostname=None, **nova_fields):
        node = str(uuid.uuid4())
        name = hypervisor_hostname or host
        self.placement.provider("%s-%s" % (name, self.tag), node, inventories)
        self.nova.hypervisors.append(dict(uuid=node, hypervisor_hostname=name, host=host, **nova_fields))
        return node


@pytest.fixture
def cl(placement, nova):
    return Cloudlet(placement, nova)


def by_name(hosts):
    return {h.name: h for h in hosts}


CPU8 = {"VCPU": {"total": 8}, "MEMORY_MB": {"total": 16384}, "DISK_GB": {"total": 100}}


def test_hosts_free_capacity_from_ratios_reserved_and_usages(tmp_path, placement, nova, cl):
    h1 = cl.host(
        "cmp1",
        {
            "VCPU": {"total": 8, "reserved": 2, "allocation_ratio": 4.0},
            "MEMORY_MB": {"total": 16384, "reserved": 512, "allocation_ratio": 1.5},
            "DISK_GB": {"total": 100, "reserved": 10},
        },
    )
    h2 = cl.host("cmp2", {"VCPU": {"total": 4}, "MEMORY_MB": {"total": 2048}})  # no DISK_GB inventory
    placement.allocate(str(uuid.uuid4()), {h1: {"VCPU": 3, "MEMORY_MB": 1024, "DISK_GB": 20}})
    placement.allocate(str(uuid.uuid4()), {h1: {"VCPU": 1, "MEMORY_MB": 512}})
    placement.allocate(str(uuid.uuid4()), {h2: {"VCPU": 1}})
    hosts = cloud.Cloud(make_conf(tmp_path, placement.url, nova.url)).hosts()
    assert hosts == [
        # (8-2)*4 - 4 = 20; int((16384-512)*1.5) - 1536 = 22272; (100-10)*1 - 20 = 70
        Host("cmp1", "cmp1", {"VCPU": 20, "MEMORY_MB": 22272, "DISK_GB": 70}, servers=2),
        # Placement's default ratios are 1.0 and a class the host lacks is 0
        Host("cmp2", "cmp2", {"VCPU": 3, "MEMORY_MB": 2048, "DISK_GB": 0}, servers=1),
    ]


def test_usage_changes_are_read_again_once_the_cache_expires(tmp_path, placement, nova, cl):
    node = cl.host("cmp1", CPU8)
    consumer = str(uuid.uuid4())
    placement.allocate(consumer, {node: {"VCPU": 8}})
    cached = cloud.Cloud(make_conf(tmp_path, placement.url, nova.url, cloud_cache_seconds=600))
    fresh = cloud.Cloud(make_conf(tmp_path, placement.url, nova.url))
    assert cached.hosts()[0].free["VCPU"] == fresh.hosts()[0].free["VCPU"] == 0
    calls = nova.count("/os-hypervisors")
    placement.delete_allocations(consumer)
    assert cached.hosts()[0].free["VCPU"] == 0 and nova.count("/os-hypervisors") == calls + 0
    assert fresh.hosts()[0] == Host("cmp1", "cmp1", {"VCPU": 8, "MEMORY_MB": 16384, "DISK_GB": 100}, servers=0)


def test_over_allocated_host_has_nothing_free_not_less(tmp_path, placement, nova, cl):
    node = cl.host("cmp1", CPU8)
    placement.allocate(str(uuid.uuid4()), {node: {"VCPU": 6}})
    placement.set_inventories(node, dict(CPU8, VCPU={"total": 8, "reserved": 4}))  # Placement allows it
    assert cloud.Cloud(make_conf(tmp_path, placement.url, nova.url)).hosts()[0].free["VCPU"] == 0


def test_host_names_are_nova_service_hosts_and_only_compute_nodes_count(tmp_path, placement, nova, cl):
    cl.host("cmp1", CPU8, hypervisor_hostname="cmp1.example.org")  # libvirt: the FQDN, [DEFAULT] host short
    placement.provider("cmp1:Open vSwitch agent", str(uuid.uuid4()), {"VCPU": {"total": 64}})  # not a host
    nova.hypervisors.append({"uuid": str(uuid.uuid4()), "hypervisor_hostname": "new", "host": "new"})  # no RP yet
    cl.host("ironic", CPU8, hypervisor_hostname="node-a")  # one service host, two nodes: left out
    cl.host("ironic", CPU8, hypervisor_hostname="node-b")
    cl.host("off", CPU8, status="disabled")
    cl.host("gone", CPU8, state="down")
    hosts = by_name(cloud.Cloud(make_conf(tmp_path, placement.url, nova.url)).hosts())
    assert sorted(hosts) == ["cmp1", "gone", "off"]
    assert hosts["cmp1"].free == {"VCPU": 8, "MEMORY_MB": 16384, "DISK_GB": 100}
    # Nova's ComputeFilter would not pick them: in the census (racks, servers) but nothing free
    assert hosts["off"].free == hosts["gone"].free == {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0}


def test_hypervisor_pages_are_followed_by_marker(tmp_path, placement, nova, cl):
    nova.max_limit = 2
    for i in range(5):
        cl.host("cmp%d" % i, CPU8)
    hosts = cloud.Cloud(make_conf(tmp_path, placement.url, nova.url)).hosts()
    assert [h.name for h in hosts] == ["cmp0", "cmp1", "cmp2", "cmp3", "cmp4"]
    assert nova.count("/os-hypervisors/detail") == 3
    # the microversion that gives uuids (= provider uuids) was asked on every page
    assert {_mv(headers) for path, headers in nova.requests} == {(2, 61)}


def test_racks_from_nova_aggregates_metadata(tmp_path, placement, nova, cl):
    for name in ("a1", "a2", "b1", "lone"):
        cl.host(name, CPU8)
    nova.aggregates = [
        {"id": 1, "name": "rack-a", "hosts": ["a1", "a2"], "metadata": {"valet_rack": "ra"}},
        {"id": 2, "name": "rack-b", "hosts": ["b1"], "metadata": {"valet_rack": "rb", "other": "x"}},
        {"id": 3, "name": "az1", "hosts": ["a1", "b1", "lone"], "metadata": {"availability_zone": "az1"}},
        {"id": 4, "name": "rack-a-again", "hosts": ["a2"], "metadata": {"valet_rack": "ra"}},  # same rack: fine
        # a host Nova no longer lists may be left in two racks: it is no host of the census
        {"id": 5, "name": "old-rack", "hosts": ["gone"], "metadata": {"valet_rack": "rold"}},
        {"id": 6, "name": "older-rack", "hosts": ["gone"], "metadata": {"valet_rack": "rolder"}},
    ]
    hosts = cloud.Cloud(make_conf(tmp_path, placement.url, nova.url)).hosts()
    assert {h.name: h.rack for h in hosts} == {"a1": "ra", "a2": "ra", "b1": "rb", "lone": "lone"}


def test_rack_aggregate_key_is_configurable(tmp_path, placement, nova, cl):
    cl.host("a1", CPU8)
    cl.host("a2", CPU8)
    nova.aggregates = [
        {"id": 1, "name": "x", "hosts": ["a1", "a2"], "metadata": {"valet_rack": "ra", "dc:rack": "R7"}},
    ]
    conf = make_conf(tmp_path, placement.url, nova.url, rack_aggregate_key="dc:rack")
    assert {h.rack for h in cloud.Cloud(conf).hosts()} == {"R7"}


def test_host_in_two_racks_is_refused_naming_both_aggregates(tmp_path, placement, nova, cl):
    cl.host("a1", CPU8)
    nova.aggregates = [
        {"id": 1, "name": "rack-a", "hosts": ["a1"], "metadata": {"valet_rack": "ra"}},
        {"id": 2, "name": "rack-b", "hosts": ["a1"], "metadata": {"valet_rack": "rb"}},
    ]
    with pytest.raises(cloud.CloudError, match=r"host a1 is in two racks: Nova aggregate 'rack-a' .*'rack-b'"):
        cloud.Cloud(make_conf(tmp_path, placement.url, nova.url)).hosts()


def test_unracked_host_named_like_a_rack_is_refused(tmp_path, placement, nova, cl):
    cl.host("a1", CPU8)
    cl.host("ra", CPU8)
    nova.aggregates = [{"id": 1, "name": "rack-a", "hosts": ["a1"], "metadata": {"valet_rack": "ra"}}]
    with pytest.raises(cloud.CloudError, match="host ra is in no rack"):
        cloud.Cloud(make_conf(tmp_path, placement.url, nova.url)).hosts()


def test_racks_from_host_pattern_when_chosen(tmp_path, placement, nova, cl):
    for name in ("r1-h1", "r1-h2", "r2-h1", "single"):
        cl.host(name, CPU8)
    nova.forbidden.add("/os-aggregates")  # not read in this mode, so its policy does not matter
    pattern = "(?P<rack>.+)-h[0-9]+"
    conf = make_conf(tmp_path, placement.url, nova.url, rack_source="host_pattern", rack_host_pattern=pattern)
    hosts = cloud.Cloud(conf).hosts()
    assert {h.name: h.rack for h in hosts} == {"r1-h1": "r1", "r1-h2": "r1", "r2-h1": "r2", "single": "single"}
    assert nova.count("/os-aggregates") == 0


@pytest.mark.parametrize(
    "pattern, message",
    [(None, "must be set"), ("(?P<rack>", "not a regular expression"), ("(.+)-h", "no named group 'rack'")],
)
def test_unusable_host_pattern_is_refused_naming_the_option(tmp_path, pattern, message):
    engine = {"rack_source": "host_pattern"}
    if pattern:
        engine["rack_host_pattern"] = pattern
    conf = make_conf(tmp_path, "http://127.0.0.1:9", "http://127.0.0.1:9", **engine)
    with pytest.raises(ValueError, match=r"\[engine\] rack_host_pattern.*" + message):
        cloud.Cloud(conf)


def test_missing_auth_type_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"\[cloud\] auth_type is not set"):
        cloud.Cloud(make_conf(tmp_path, "http://x", "http://x", auth={"timeout": 5}))


def test_flavor_size_by_id_and_by_name(tmp_path, placement, nova):
    nova.flavors = [
        {"id": "1", "name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20},
        {"id": "f-2", "name": "m1.big", "vcpus": 4, "ram": 8192, "disk": 40, "OS-FLV-EXT-DATA:ephemeral": 10,
         "swap": 1500},
        {"id": "3", "name": "bm", "vcpus": 16, "ram": 65536, "disk": 500,
         "extra_specs": {"resources:VCPU": "0", "resources:MEMORY_MB": "0", "resources1:DISK_GB": "5",
                         "resources_A:DISK_GB": "2", "resources:CUSTOM_BAREMETAL": "1"}},
    ]  # fmt: skip
    nova.max_limit = 1  # the name is found on a later page
    c = cloud.Cloud(make_conf(tmp_path, placement.url, nova.url))
    assert c.flavor_size("1") == {"VCPU": 1, "MEMORY_MB": 2048, "DISK_GB": 20}
    assert c.flavor_size("m1.small") == {"VCPU": 1, "MEMORY_MB": 2048, "DISK_GB": 20}
    # root 40 + ephemeral 10 + swap 1500 MB rounded up to 2 GB, as Nova's scheduler asks Placement
    assert c.flavor_size("m1.big") == {"VCPU": 4, "MEMORY_MB": 8192, "DISK_GB": 52}
    # resources*:CLASS specs, summed over request groups, replace the flavor's own amount
    assert c.flavor_size("bm") == {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 7}


# Runs Nova's own scheduler code (the nova library of the test venv) in a subprocess, so that
# Nova's imports and configuration stay out of this process.
NOVA_ORACLE = """
import json, sys
import nova.conf
from nova import objects
from nova.scheduler import utils
objects.register_all()
nova.conf.CONF([], project="nova", default_config_files=[])
out = []
for f in json.load(sys.stdin):
    flavor = objects.Flavor(id=1, flavorid="f", name="f", vcpus=f["vcpus"], memory_mb=f["ram"], root_gb=f["disk"],
                            ephemeral_gb=f["OS-FLV-EXT-DATA:ephemeral"], swap=f["swap"] or 0,
                            extra_specs=f["extra_specs"], rxtx_factor=1.0, vcpu_weight=0, disabled=False,
                            is_public=True, description=None)
    try:
        out.append(utils.resources_from_flavor_and_bfv(flavor, False))
    except Exception as exc:  # a flavor Nova's API would refuse to boot
        out.append({"refused": str(exc)})
json.dump(out, sys.stdout)
"""


def test_flavor_size_is_what_novas_scheduler_asks_placement_for():
    rnd = random.Random(21)
    specs = [
        ("resources:VCPU", ["0", "2", "x", "-1"]),
        ("resources1:VCPU", ["1", "3"]),
        ("resources:PCPU", ["2"]),
        ("resources:MEMORY_MB", ["0", "1024"]),
        ("resources_G:MEMORY_MB", ["512"]),
        ("resources:DISK_GB", ["0", "5"]),
        ("resources2:DISK_GB", ["7", " 3"]),
        ("resources:CUSTOM_GPU", ["1"]),
        ("hw:cpu_policy", ["shared", "dedicated"]),
        ("trait:HW_CPU_X86_AVX", ["required"]),
    ]
    flavors = []
    for _ in range(300):
        flavors.append(
            {
                "vcpus": rnd.choice([1, 2, 8]),
                "ram": rnd.choice([512, 4096]),
                "disk": rnd.choice([0, 1, 20]),
                "OS-FLV-EXT-DATA:ephemeral": rnd.choice([0, 0, 10]),
                "swap": rnd.choice(["", 0, 1, 1024, 1500]),
                "extra_specs": {k: rnd.choice(v) for k, v in specs if rnd.random() < 0.25},
            }
        )
    proc = subprocess.run(
        [sys.executable, "-c", NOVA_ORACLE],
        input=json.dumps(flavors),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    answers = json.loads(proc.stdout)
    compared = 0
    for flavor, nova_asks in zip(flavors, answers):
        if "refused" in nova_asks:
            continue
        expected = {rc: nova_asks.get(rc, 0) for rc in ("VCPU", "MEMORY_MB", "DISK_GB")}
        assert cloud._flavor_resources(flavor) == expected, flavor
        compared += 1
    assert compared > 200


def test_flavor_sizes_are_cached(tmp_path, placement, nova):
    nova.flavors = [{"id": "1", "name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20}]
    c = cloud.Cloud(make_conf(tmp_path, placement.url, nova.url))
    c.flavor_size("m1.small")
    calls = len(nova.requests)
    nova.flavors[0]["vcpus"] = 99  # Nova's flavors do not change; a cached read does not ask again
    assert c.flavor_size("m1.small")["VCPU"] == 1
    assert len(nova.requests) == calls
    uncached = cloud.Cloud(make_conf(tmp_path, placement.url, nova.url, flavor_cache_seconds=0))
    assert uncached.flavor_size("m1.small")["VCPU"] == uncached.flavor_size("m1.small")["VCPU"] == 99


def test_unknown_flavor_is_a_clear_error(tmp_path, placement, nova):
    nova.flavors = [{"id": "1", "name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20}]
    c = cloud.Cloud(make_conf(tmp_path, placement.url, nova.url))
    with pytest.raises(cloud.FlavorNotFound, match="flavor 'm1.huge' not found in Nova") as err:
        c.flavor_size("m1.huge")
    assert err.value.flavor == "m1.huge" and isinstance(err.value, LookupError)


def test_status_ok(tmp_path, placement, nova):
    assert cloud.Cloud(make_conf(tmp_path, placement.url, nova.url)).status() == {"placement": "ok", "nova": "ok"}


def test_status_names_the_nova_policy_the_service_user_lacks(tmp_path, placement, nova, cl):
    cl.host("a1", CPU8)
    nova.forbidden.add("/os-aggregates")
    c = cloud.Cloud(make_conf(tmp_path, placement.url, nova.url))
    report = c.status()
    assert report["placement"] == "ok"
    assert report["nova"].startswith("error: nova answered GET /os-aggregates with 403 Forbidden")
    assert "\"os_compute_api:os-aggregates:index\": \"role:admin or role:service\"" in report["nova"]
    with pytest.raises(cloud.CloudError, match="os_compute_api:os-aggregates:index"):
        c.hosts()


def test_placement_down(tmp_path, nova):
    down = PlacementServer().start()
    c = cloud.Cloud(make_conf(tmp_path, down.url, nova.url))
    nova.hypervisors.append({"uuid": str(uuid.uuid4()), "hypervisor_hostname": "a1", "host": "a1"})
    down.stop()
    report = c.status()
    assert report["nova"] == "ok"
    assert report["placement"].startswith("error: placement unreachable (GET /resource_providers")
    with pytest.raises(cloud.CloudError, match="placement unreachable .GET /resource_providers/.*/inventories"):
        c.hosts()


def test_status_returns_when_a_service_hangs(tmp_path, placement):
    # A listening socket that never answers: the check gives up instead of holding /v1/status.
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(8)
    try:
        conf = make_conf(tmp_path, placement.url, "http://127.0.0.1:%d" % hung.getsockname()[1], status_timeout=0.5)
        report = cloud.Cloud(conf).status()
    finally:
        hung.close()
    assert report["placement"] == "ok"
    assert report["nova"].startswith("error: ")


def test_placement_with_keystone_needs_only_the_service_role(tmp_path, keystone, nova):
    """Keystone tokens checked by keystonemiddleware in Placement; the Valet user has the service role only."""
    # A user of its own: other test files share this Keystone and its "valet" user.
    keystone.create_service_user("valet-reader", "valet-pw", role="service")
    keystone.create_service_user("nobody", "nobody-pw", role="member")
    with PlacementServer(keystone=keystone) as ks_placement:
        # seeded through Placement's API as Keystone's admin
        from keystoneauth1 import adapter

        admin = adapter.Adapter(
            keystone.admin_session(),
            service_type="placement",
            endpoint_override=ks_placement.url,
            default_microversion="1.39",
            raise_exc=True,
        )
        node = str(uuid.uuid4())
        admin.post("/resource_providers", json={"name": "cmp1", "uuid": node})
        admin.put(
            "/resource_providers/%s/inventories" % node,
            json={"resource_provider_generation": 0, "inventories": {"VCPU": {"total": 4}}},
        )
        nova.hypervisors.append({"uuid": node, "hypervisor_hostname": "cmp1", "host": "cmp1"})

        def user(name, password):
            return {
                "auth_type": "password",
                "auth_url": keystone.auth_url,
                "username": name,
                "password": password,
                "project_name": "service",
                "user_domain_name": "Default",
                "project_domain_name": "Default",
            }

        valet = cloud.Cloud(make_conf(tmp_path, ks_placement.url, nova.url, auth=user("valet-reader", "valet-pw")))
        assert valet.hosts() == [Host("cmp1", "cmp1", {"VCPU": 4, "MEMORY_MB": 0, "DISK_GB": 0})]
        assert valet.status() == {"placement": "ok", "nova": "ok"}
        nobody = cloud.Cloud(make_conf(tmp_path, ks_placement.url, nova.url, auth=user("nobody", "nobody-pw")))
        assert nobody.status()["placement"].startswith("error: placement answered GET /resource_providers")
        with pytest.raises(cloud.CloudError, match="placement answered GET .*/inventories with 403"):
            nobody.hosts()


def test_list_opts_names_every_group():
    groups = dict(cloud_conf.list_opts() + engine_conf.list_opts())
    assert set(groups) == {"cloud", "placement", "nova", "engine"}
    names = {g: {o.dest for o in opts} for g, opts in groups.items()}
    assert {"auth_type", "auth_url", "username", "password", "timeout"} <= names["cloud"]
    assert {"region_name", "valid_interfaces", "endpoint_override", "service_type"} <= names["placement"]
    assert [o.default for o in groups["nova"] if o.dest == "service_type"] == ["compute"]
    assert {"rack_source", "rack_aggregate_key", "rack_host_pattern", "cloud_cache_seconds"} <= names["engine"]


def test_token_reaches_nova_and_placement(tmp_path, placement, nova, cl):
    cl.host("a1", CPU8)
    cloud.Cloud(make_conf(tmp_path, placement.url, nova.url)).hosts()
    assert {headers.get("X-Auth-Token") for _path, headers in nova.requests} == {"admin"}


def test_nova_pages_that_do_not_advance_are_an_error_not_a_loop(tmp_path, placement, nova):
    nova.max_limit = 1
    same = str(uuid.uuid4())  # a broken list: every page's last id is the same marker
    nova.hypervisors = [{"uuid": same, "hypervisor_hostname": h, "host": h} for h in ("a", "b", "c")]
    with pytest.raises(cloud.CloudError, match="/os-hypervisors/detail pages do not advance"):
        cloud.Cloud(make_conf(tmp_path, placement.url, nova.url)).hosts()


def test_concurrent_callers_share_one_census(tmp_path, placement, nova, cl):
    for i in range(3):
        cl.host("cmp%d" % i, CPU8)
    c = cloud.Cloud(make_conf(tmp_path, placement.url, nova.url, cloud_cache_seconds=600))
    start = threading.Barrier(8)
    results = []

    def plan():
        start.wait()
        results.append(c.hosts())

    threads = [threading.Thread(target=plan) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and all(r == results[0] for r in results) and len(results[0]) == 3
    assert nova.count("/os-hypervisors/detail") == 1


class HookedProxy:
    """Forwards GETs to Placement; the first time it forwards a path, runs the hook given for it."""

    def __init__(self, target, hooks):
        self.hooks, self.seen = dict(hooks), []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                req = urllib.request.Request(target + self.path, headers=dict(self.headers))
                with urllib.request.urlopen(req, timeout=30) as resp:
                    status, data = resp.status, resp.read()
                proxy.seen.append(self.path)
                hook = proxy.hooks.pop(self.path, None)
                if hook:  # before answering: the client's next request sees what the hook did
                    hook()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_inventory_changed_between_reads_is_read_again(tmp_path, placement, nova, cl):
    node = cl.host("cmp1", CPU8)
    placement.allocate(str(uuid.uuid4()), {node: {"VCPU": 1}})
    inventories = "/resource_providers/%s/inventories" % node

    # The operator lowers the host's VCPUs just after valet-api read its inventories.
    def shrink():
        placement.set_inventories(node, dict(CPU8, VCPU={"total": 4}))

    proxy = HookedProxy(placement.url, {inventories: shrink})
    try:
        hosts = cloud.Cloud(make_conf(tmp_path, proxy.url, nova.url)).hosts()
    finally:
        proxy.close()
    assert hosts[0].free["VCPU"] == 3  # not 8 - 1 from the stale inventory
    assert proxy.seen.count(inventories) == 2


def test_host_with_several_compute_nodes_is_warned_about_once(tmp_path, placement, nova, cl, caplog):
    cl.host("ironic", CPU8, hypervisor_hostname="node-a")
    cl.host("ironic", CPU8, hypervisor_hostname="node-b")
    cl.host("cmp1", CPU8)
    c = cloud.Cloud(make_conf(tmp_path, placement.url, nova.url))
    with caplog.at_level("WARNING", logger="valet_api.cloud"):
        assert [h.name for h in c.hosts()] == [h.name for h in c.hosts()] == ["cmp1"]
    warnings = [r.getMessage() for r in caplog.records if r.name == "valet_api.cloud"]
    assert len(warnings) == 1 and "ironic runs 2 compute nodes (node-a, node-b)" in warnings[0]


def test_hung_placement_fails_the_census_after_the_cloud_timeout(tmp_path, nova):
    hung = socket.socket()  # listens, never answers
    hung.bind(("127.0.0.1", 0))
    hung.listen(8)
    nova.hypervisors.append({"uuid": str(uuid.uuid4()), "hypervisor_hostname": "a1", "host": "a1"})
    placement_url = "http://127.0.0.1:%d" % hung.getsockname()[1]
    auth = {"auth_type": "admin_token", "endpoint": placement_url, "token": "admin", "timeout": 0.5}
    conf = make_conf(tmp_path, placement_url, nova.url, auth=auth)
    try:
        with pytest.raises(cloud.CloudError, match="placement unreachable .GET /resource_providers/.*timed out"):
            cloud.Cloud(conf).hosts()
    finally:
        hung.close()
    assert make_conf(tmp_path, placement_url, nova.url).cloud.timeout == cloud_conf.REQUEST_TIMEOUT == 30
