"""valet-api faults on real boots: nova-scheduler's ValetFilter follows failure_mode.

Each test boots one server with `openstack server create` (no Heat) onto the four fake
computes while the valet-api emulator is stopped, slow past read_timeout, or refuses the
filter's token (401). reject: the server ends in ERROR with Nova's "No valid host" and is on
no host; yield: ACTIVE on a host Nova chose. A slow valet-api costs one bounded wait per
scheduling request (the request's own attempts, never one per candidate host).
"""

import time

import pytest
from conftest import NOVA_LOG
from e2e import COMPUTE_HOSTS
from e2e import boot
from e2e import delete_server
from e2e import filter_lines
from e2e import record_figure
from faults import CAUSES
from faults import EMULATOR_RESTART
from faults import clear_fault
from faults import set_fault
from faults import yield_while_testing

scheduler_yields = yield_while_testing("nova")


def _boot_under_fault(cloud, mode, name):
    """Boot `name` while valet-api has fault `mode`; (server, seconds to ACTIVE/ERROR, log, requests)."""
    offset = cloud.log_size(NOVA_LOG)
    cloud.clear()
    set_fault(cloud, mode)
    try:
        started = time.monotonic()
        show = boot(cloud, name)
        elapsed = time.monotonic() - started
        requests = [] if mode == "stopped" else cloud.requests()
    finally:
        if mode == "slow":
            # The emulator would still answer the abandoned requests later; start it afresh.
            cloud.host.check_output(EMULATOR_RESTART)
        clear_fault(cloud, mode)
    delete_server(cloud, show["id"])
    return show, elapsed, cloud.log_since(NOVA_LOG, offset), requests


def _one_call_per_request(verdict, elapsed, requests):
    """One scheduling request, four candidate hosts, and valet-api got the POST once: a request
    it received is never resent, so a hung valet-api costs one bounded wait (time printed only)."""
    attempts = [r for r in requests if r["method"] == "POST"]
    record_figure(
        f"e2e: slow valet-api, {verdict} in", "%.1f s, %d valet-api call(s) for 4 hosts" % (elapsed, len(attempts))
    )
    assert len(attempts) == 1, attempts


def _placed(cloud, ident):
    return [p for p in cloud.emulator("GET", "/state")["placements"].values() if p["resource_id"] == ident]


# Down, slow, and a refusal of its credentials; every other cause the filter reaches the same
# verdict through is covered with Nova's own filter code in tests/plugin_package.
# A real boot costs about half a minute on these machines.
@pytest.mark.parametrize("mode", ["stopped", "slow", "unauthorized"])
def test_reject_ends_in_no_valid_host(cloud, mode):
    show, elapsed, log, requests = _boot_under_fault(cloud, mode, f"molecule-reject-{mode}")
    print(f"{mode}: {show['status']} in {elapsed:.1f}s: {show.get('fault')}")
    assert show["status"] == "ERROR"
    assert "No valid host" in show["fault"]["message"], show["fault"]
    assert show["OS-EXT-SRV-ATTR:host"] is None
    assert not _placed(cloud, show["id"])
    lines = filter_lines(log, show["id"])
    assert [line for line in lines if "failure_mode=reject" in line and CAUSES[mode] in line], lines
    if mode == "slow":
        _one_call_per_request("reject: boot to ERROR", elapsed, requests)


@pytest.mark.parametrize("mode", ["stopped", "slow"])
def test_yield_boots_on_a_host_nova_chose(cloud, scheduler_yields, mode):
    show, elapsed, log, requests = _boot_under_fault(cloud, mode, f"molecule-yield-{mode}")
    print(f"{mode}: {show['status']} on {show['OS-EXT-SRV-ATTR:host']} in {elapsed:.1f}s")
    assert show["status"] == "ACTIVE", show.get("fault")
    assert show["OS-EXT-SRV-ATTR:host"] in COMPUTE_HOSTS
    lines = filter_lines(log, show["id"])
    assert [line for line in lines if "failure_mode=yield" in line and CAUSES[mode] in line], lines
    if mode == "slow":
        _one_call_per_request("yield: boot to ACTIVE", elapsed, requests)
