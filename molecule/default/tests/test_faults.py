"""valet-api faults at run time, against the real Heat 19 / Nova 26 of the test host.

valet-api stopped, refusing, slow past read_timeout, answering 500, answering 401: a Heat
stack create and the Nova filter must follow failure_mode each time, log why, and never
wait much longer than the configured timeouts. The scenario converges with short
timeouts (host_vars/valet-default.yml) to keep this fast.

The time bounds below are generous on purpose: they prove "does not hang", not speed.
"""
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest
import yaml

from conftest import HEAT_LOG

HOST_VARS = yaml.safe_load(
    (pathlib.Path(__file__).resolve().parent.parent / "host_vars" / "valet-default.yml").read_text())
CONNECT = HOST_VARS["valet_openstack_connect_timeout"]
READ = HOST_VARS["valet_openstack_read_timeout"]
RETRIES = HOST_VARS["valet_openstack_retries"]
# Worst case of one valet-api call, plus room for the CLI, Keystone and Heat's own work.
BOUND = (CONNECT + READ) * (RETRIES + 1) + 40
# The emulator sleeps this long when slow: a client without a read timeout would exceed BOUND.
SLOW_DELAY = BOUND + 10
# Only the emulator of this container (the pid file-less process started by testhost-up).
EMULATOR_STOP = "kill $(pgrep -f '^python3 /usr/local/lib/valet-testhost/valet_api_emulator.py')"
CAUSES = {
    # mode: what the reason / log line must quote as the cause
    "stopped": "Errno 111",  # nothing listens: connection refused
    "refuse": "Remote end closed connection",
    "slow": "Read timed out",
    "error500": "HTTP 500",
    "unauthorized": "HTTP 401",
}
TEMPLATE = "demo-stack.yaml"


def _set_fault(cloud, mode):
    if mode == "stopped":
        cloud.host.check_output(EMULATOR_STOP)
        # Make sure nothing listens any more (connection refused, not a fault mode).
        for _ in range(50):
            if cloud.host.run("python3 -c \"import socket;socket.create_connection(('127.0.0.1',8090),1)\"").rc:
                return
            time.sleep(0.2)
        pytest.fail("the emulator did not stop")
    cloud.fault(mode, SLOW_DELAY if mode == "slow" else 0)


def _clear_fault(cloud, mode):
    if mode == "stopped":
        cloud.host.check_output("/usr/local/sbin/testhost-up infra")
    else:
        cloud.fault("none")


def _set_failure_mode(cloud, value):
    """Edit [valet] failure_mode with the collection's own module, then restart heat-engine."""
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    ansible = str(pathlib.Path(sys.executable).parent / "ansible")
    for path in ("/etc/heat/heat.conf", "/etc/nova/nova.conf"):
        subprocess.run(
            [ansible, "all", "-i", inventory, "-m", "valet.openstack.oslo_ini", "-a",
             f"path={path} section=valet option=failure_mode value={value} "
             "ledger=/var/lib/molecule-faults/ledger.json"],
            check=True, capture_output=True, text=True)
    offset = cloud.log_size(HEAT_LOG)
    cloud.host.check_output("service heat-engine restart")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if "ATT::Valet::GroupAssignment" in cloud.log_since(HEAT_LOG, offset):
            return
        time.sleep(2)
    pytest.fail("heat-engine did not register the plugin again after the restart")


def _probe(cloud):
    script = cloud.put("nova_filter_probe.py")
    return json.loads(cloud.host.check_output(f"python3 {script} 2>/dev/null").splitlines()[-1])


@pytest.fixture(scope="module")
def yield_mode(host):
    """Switch to failure_mode=yield for a test, and back to reject (the converged value) after."""
    from conftest import Cloud
    cloud = Cloud(host)
    _set_failure_mode(cloud, "yield")
    yield
    _set_failure_mode(cloud, "reject")


def _stack_under_fault(cloud, mode, name, probe_nova=False):
    """Create stack `name` while valet-api has fault `mode` (and run the Nova probe if asked).

    Returns status, reason, seconds taken, heat-engine's log meanwhile, and the probe's output.
    """
    template = cloud.put(TEMPLATE)
    cloud.delete_stack(name)
    offset = cloud.log_size(HEAT_LOG)
    _set_fault(cloud, mode)
    try:
        status, reason, elapsed = cloud.create_stack(template, name)
        nova = _probe(cloud) if probe_nova else None
    finally:
        _clear_fault(cloud, mode)
    cloud.delete_stack(name)
    return status, reason, elapsed, cloud.log_since(HEAT_LOG, offset), nova


def _lines_with(text, *needles):
    lines = text.splitlines() if isinstance(text, str) else text
    return [line for line in lines if all(needle in line for needle in needles)]


@pytest.mark.parametrize("mode", list(CAUSES))
def test_heat_reject(cloud, mode):
    name = f"molecule-fault-{mode}"
    status, reason, elapsed, log, _ = _stack_under_fault(cloud, mode, name)
    print(f"{mode}: {status} in {elapsed:.1f}s: {reason}")
    assert status == "CREATE_FAILED"
    assert "failure_mode=reject" in reason and CAUSES[mode] in reason, reason
    assert _lines_with(log, "failure_mode=reject", name, CAUSES[mode]), log[-2000:]
    assert elapsed < BOUND, f"stack create took {elapsed:.1f}s, bound {BOUND}s"


@pytest.mark.parametrize("mode", list(CAUSES))
def test_nova_reject(cloud, mode):
    _set_fault(cloud, mode)
    try:
        started = time.monotonic()
        out = _probe(cloud)
        elapsed = time.monotonic() - started
    finally:
        _clear_fault(cloud, mode)
    print(mode, json.dumps(out))
    assert out["enabled_filters"][-1] == "ValetFilter"
    assert out["passed"] == []
    assert _lines_with(out["log"], "failure_mode=reject", CAUSES[mode])
    assert elapsed < BOUND


def test_nova_without_fault_passes_the_chosen_host(cloud):
    # The same probe with valet-api healthy: exactly one host, the one Valet chose.
    out = _probe(cloud)
    assert len(out["passed"]) == 1 and out["passed"][0] in out["candidates"]
    assert _lines_with(out["log"], "Valet chose host " + out["passed"][0])


@pytest.mark.parametrize("mode", list(CAUSES))
def test_heat_and_nova_yield(cloud, yield_mode, mode):
    name = f"molecule-yield-{mode}"
    status, reason, elapsed, log, nova = _stack_under_fault(cloud, mode, name, probe_nova=True)
    print(f"{mode}: {status} in {elapsed:.1f}s; nova passed {nova['passed']}")
    assert status == "CREATE_COMPLETE", reason
    assert _lines_with(log, "WARNING", "failure_mode=yield", name, CAUSES[mode]), log[-2000:]
    assert elapsed < BOUND
    assert nova["passed"] == nova["candidates"]
    assert _lines_with(nova["log"], "failure_mode=yield", CAUSES[mode])
