"""End to end: a Heat stack of real servers lands where its Valet groups require.

Heat -> nova-api -> nova-conductor -> nova-scheduler (ValetFilter) -> the real valet-api ->
nova-compute (fake driver, hosts r1-h1, r1-h2, r2-h1, r2-h2 in the rack aggregates r1 and r2).
One stack of seven servers (files/servers-stack.yaml) is created once for the module; every check below only reads it.
Placement is read from Nova (OS-EXT-SRV-ATTR:host), never from Valet's answer alone.
"""

import json
import subprocess

import pytest
from conftest import NOVA_LOG
from conftest import Cloud
from e2e import COMPUTE_HOSTS
from e2e import RACKS
from e2e import boot
from e2e import delete_server
from e2e import filter_lines
from e2e import record_figure

STACK = "molecule-e2e"


def _memory(host):
    """The test host's memory use as `podman stats` reports it (the container's cgroup)."""
    name = host.backend.get_hostname()  # the inventory name: the container's name
    stats = subprocess.run(
        ["podman", "stats", "--no-stream", "--format", "{{.MemUsage}}", name],
        capture_output=True,
        text=True,
        check=False,
    )
    return stats.stdout.strip() or "unknown (podman stats: %s)" % stats.stderr.strip()


@pytest.fixture(scope="module")
def e2e(host):
    """Create the stack once; yield (placement report, stack status, reason, seconds, scheduler log)."""
    cloud = Cloud(host)
    template = cloud.put("servers-stack.yaml")
    report_script = cloud.put("placement_report.py")
    cloud.delete_stack(STACK)
    offset = cloud.log_size(NOVA_LOG)
    status, reason, seconds = cloud.create_stack(template, STACK)
    try:
        report = json.loads(host.check_output(f"python3 {report_script} {STACK}"))
        record_figure("e2e: 7-server stack %s in" % status, "%.0f s (budget 90 s)" % seconds)
        record_figure(
            "e2e: test host memory, 4 fake computes + 7 servers", "%s (podman stats; budget 4 GB)" % _memory(host)
        )
        yield report, status, reason, seconds, cloud.log_since(NOVA_LOG, offset)
    finally:
        # Frees the hosts valet-api reserved for the stack's exclusivity group.
        assert cloud.delete_stack(STACK) is None


def test_four_fake_computes_in_two_racks(cloud):
    hypervisors = json.loads(cloud.openstack("hypervisor list -f json"))
    assert sorted(h["Hypervisor Hostname"] for h in hypervisors) == COMPUTE_HOSTS
    assert {h["State"] for h in hypervisors} == {"up"}
    # valet-api's racks: the Nova host aggregates carrying valet_rack (prepare.yml).
    racks = {}
    for aggregate in json.loads(cloud.openstack("aggregate list --long -f json")):
        rack = (aggregate["Properties"] or {}).get("valet_rack")
        for member in json.loads(cloud.openstack(f"aggregate show {aggregate['ID']} -f json -c hosts"))["hosts"]:
            racks[member] = rack
    assert racks == RACKS
    services = json.loads(cloud.openstack("compute service list --service nova-compute -f json"))
    assert sorted(s["Host"] for s in services) == COMPUTE_HOSTS
    assert {s["State"] for s in services} == {"up"}


def test_stack_of_servers_completes(e2e):
    report, status, reason = e2e[:3]
    assert status == "CREATE_COMPLETE", reason
    assert sorted(report["servers"]) == ["app1", "app2", "app3", "db1", "db2", "web1", "web2"]
    for name, srv in report["servers"].items():
        assert srv["status"] == "ACTIVE", (name, srv)
        assert srv["host"] in COMPUTE_HOSTS, (name, srv)


def _group(report, name):
    return next(g for g in report["groups"] if g["name"] == name)


def test_host_affinity_pair_on_one_host(e2e):
    servers = e2e[0]["servers"]
    assert servers["web1"]["host"] == servers["web2"]["host"]
    assert _group(e2e[0], "web_pair")["holds"]


def test_rack_affinity_around_the_pair(e2e):
    servers = e2e[0]["servers"]
    assert servers["app1"]["rack"] == servers["web1"]["rack"] == servers["web2"]["rack"]
    assert _group(e2e[0], "web_rack")["holds"]


def test_host_diversity_on_distinct_hosts(e2e):
    servers = e2e[0]["servers"]
    assert len({servers[n]["host"] for n in ("app1", "app2", "app3")}) == 3
    assert _group(e2e[0], "app_spread")["holds"]


def test_exclusivity_hosts_hold_nothing_else(e2e, cloud):
    report = e2e[0]
    db_hosts = {report["servers"][n]["host"] for n in ("db1", "db2")}
    others = {report["servers"][n]["host"] for n in report["servers"] if not n.startswith("db")}
    assert not db_hosts & others
    # Nor any server outside the stack, and valet-api holds exactly those hosts for the group (its
    # key: the owner's project and the group's name).
    assert not db_hosts & set(report["others"])
    reserved = cloud.exclusive_hosts()
    assert {h for h, key in reserved.items() if key.endswith(":demo-db-hosts")} == db_hosts, reserved
    assert _group(report, "db_hosts")["holds"]


def test_scheduler_log_shows_valet_decision_for_each_server(e2e):
    report, log = e2e[0], e2e[4]
    for name, srv in report["servers"].items():
        lines = filter_lines(log, srv["id"])
        assert lines, f"no ValetFilter line for {name} ({srv['id']})"
        assert any(srv["host"] in line for line in lines), (name, srv["host"], lines)


def test_valet_placements_are_where_nova_put_them(e2e, cloud):
    plan = cloud.plan(e2e[0]["stack_id"])
    assert plan is not None, "valet-api has no plan for the stack"
    by_name = {p["name"]: p["location"] for p in plan["placements"].values()}
    assert by_name == {name: srv["host"] for name, srv in e2e[0]["servers"].items()}


def test_plain_server_goes_where_valet_says_and_off_reserved_hosts(e2e, cloud):
    # No Heat: the filter sends valet-api a one-server plan keyed by the instance uuid.
    reserved = set(cloud.exclusive_hosts())
    offset = cloud.log_size(NOVA_LOG)
    show = boot(cloud, "molecule-e2e-plain")
    ident = show["id"]
    try:
        assert show["status"] == "ACTIVE", show.get("fault")
        host = show["OS-EXT-SRV-ATTR:host"]
        assert host in COMPUTE_HOSTS and host not in reserved
        # The filter's one-server plan, keyed by the instance uuid, placed where Nova put it.
        plan = cloud.plan(ident)
        assert plan is not None and plan["stack_id"] == ident, plan
        assert [p["location"] for p in plan["placements"].values()] == [host], plan
        lines = filter_lines(cloud.log_since(NOVA_LOG, offset), ident)
        assert any(host in line for line in lines), lines
    finally:
        delete_server(cloud, ident)
