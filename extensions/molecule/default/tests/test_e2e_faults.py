"""valet-api faults on real boots: nova-scheduler's ValetFilter follows failure_mode.

Each test boots one server with `openstack server create` (no Heat) onto the four fake
computes while the real valet-api is stopped, paused (SIGSTOP) or refusing the Valet user by its
policy (403). reject: the server ends in ERROR with Nova's "No valid host" and is on no host;
yield: ACTIVE on a host Nova chose. A hung valet-api costs one bounded wait per scheduling
request (the request's own attempts, never one per candidate host): its log, once it is resumed,
shows the requests it was sent.
"""

import time

import pytest
from conftest import NOVA_LOG
from conftest import VALET_API_LOG
from e2e import COMPUTE_HOSTS
from e2e import boot
from e2e import delete_server
from e2e import filter_lines
from e2e import record_figure
from faults import CAUSES
from faults import clear_fault
from faults import set_fault
from faults import sweep_plans
from faults import yield_while_testing

# On one release only: see the `faults` marker in conftest.py.
pytestmark = pytest.mark.faults

scheduler_yields = yield_while_testing("nova")


def _boot_under_fault(cloud, mode, name):
    """Boot `name` while valet-api has fault `mode`; (server, seconds to ACTIVE/ERROR, log, the
    plan POSTs valet-api's log shows meanwhile, valet-api's plan for the server)."""
    offset = cloud.log_size(NOVA_LOG)
    api_offset = cloud.log_size(VALET_API_LOG)
    set_fault(cloud, mode)
    try:
        started = time.monotonic()
        show = boot(cloud, name)
        elapsed = time.monotonic() - started
    finally:
        clear_fault(cloud, mode)
    posts = _plan_posts(cloud, api_offset, wait=mode == "paused")
    plan = cloud.plan(show["id"])
    delete_server(cloud, show["id"])
    sweep_plans(cloud)
    return show, elapsed, cloud.log_since(NOVA_LOG, offset), posts, plan


def _plan_posts(cloud, offset, wait):
    """The plan POSTs valet-api's log shows since offset.

    uwsgi logs a request once it has answered it. A resumed valet-api answers the requests that
    waited while it was paused, and may answer clear_fault's status check first: with wait, the
    log is read until it shows one (30 s at most), then once more 2 s later, so that a resent
    request, queued beside the first, is counted too.
    """

    def read():
        return [line for line in cloud.log_since(VALET_API_LOG, offset).splitlines() if "POST /v1/plans " in line]

    deadline = time.monotonic() + 30
    posts = read()
    while wait and not posts and time.monotonic() < deadline:
        time.sleep(1)
        posts = read()
    if wait and posts:
        time.sleep(2)
        posts = read()
    return posts


def _one_call_per_request(verdict, elapsed, posts):
    """One scheduling request, four candidate hosts, and valet-api got the POST once: a request
    it received is never resent, so a hung valet-api costs one bounded wait (time printed only)."""
    calls = "%.1f s, %d valet-api call(s) for 4 hosts" % (elapsed, len(posts))
    record_figure(f"e2e: hung valet-api, {verdict} in", calls)
    assert len(posts) == 1, posts


# Down, hung, and a refusal of the Valet user; every other cause the filter reaches the same
# verdict through is covered with Nova's own filter code in tests/plugin_package.
# A real boot costs about half a minute on these machines.
@pytest.mark.parametrize("mode", ["stopped", "paused", "forbidden"])
def test_reject_ends_in_no_valid_host(cloud, mode):
    show, elapsed, log, posts, plan = _boot_under_fault(cloud, mode, f"molecule-reject-{mode}")
    print(f"{mode}: {show['status']} in {elapsed:.1f}s: {show.get('fault')}")
    assert show["status"] == "ERROR"
    assert "No valid host" in show["fault"]["message"], show["fault"]
    assert show["OS-EXT-SRV-ATTR:host"] is None
    # valet-api placed nothing; a paused one answers the abandoned request once resumed (its plan
    # is then a reservation nobody confirms, removed with the server).
    if mode != "paused":
        assert plan is None, plan
    lines = filter_lines(log, show["id"])
    assert [line for line in lines if "failure_mode=reject" in line and CAUSES[mode] in line], lines
    if mode == "paused":
        _one_call_per_request("reject: boot to ERROR", elapsed, posts)


@pytest.mark.parametrize("mode", ["stopped", "paused"])
def test_yield_boots_on_a_host_nova_chose(cloud, scheduler_yields, mode):
    show, elapsed, log, posts, _plan = _boot_under_fault(cloud, mode, f"molecule-yield-{mode}")
    print(f"{mode}: {show['status']} on {show['OS-EXT-SRV-ATTR:host']} in {elapsed:.1f}s")
    assert show["status"] == "ACTIVE", show.get("fault")
    assert show["OS-EXT-SRV-ATTR:host"] in COMPUTE_HOSTS
    lines = filter_lines(log, show["id"])
    assert [line for line in lines if "failure_mode=yield" in line and CAUSES[mode] in line], lines
    if mode == "paused":
        _one_call_per_request("yield: boot to ACTIVE", elapsed, posts)
