"""valet-api faults at run time, against the real Heat 19 of the test host.

valet-api stopped, refusing, slow past read_timeout, answering 500, answering 401: a Heat
stack create must follow failure_mode each time, log why, and never wait much longer than
the configured timeouts. Nova's side, on real boots, is test_e2e_faults.py. The scenario converges with short
timeouts (play vars in converge.yml) to keep this fast.

Times are printed, not asserted: "does not hang" is proven by the cause the stack quotes (the
client gave up on a valet-api that answers only after SLOW_DELAY), not by the clock.
"""
import os
import pathlib
import subprocess
import sys
import time

import pytest
import yaml
from conftest import HEAT_LOG

SCENARIO_VARS = yaml.safe_load(
    (pathlib.Path(__file__).resolve().parent.parent / "converge.yml").read_text())[0]["vars"]
CONNECT = SCENARIO_VARS["valet_openstack_connect_timeout"]
READ = SCENARIO_VARS["valet_openstack_read_timeout"]
RETRIES = SCENARIO_VARS["valet_openstack_retries"]
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
    """Edit heat.conf [valet] failure_mode with the collection's own module, then restart heat-engine."""
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    ansible = str(pathlib.Path(sys.executable).parent / "ansible")
    subprocess.run(
        [ansible, "all", "-i", inventory, "-m", "valet.openstack.oslo_ini", "-a",
         "path=/etc/heat/heat.conf section=valet option=failure_mode "
         f"value={value} ledger=/var/lib/molecule-faults/ledger.json"],
        check=True, capture_output=True, text=True)
    offset = cloud.log_size(HEAT_LOG)
    cloud.host.check_output("service heat-engine restart")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if "ATT::Valet::GroupAssignment" in cloud.log_since(HEAT_LOG, offset):
            return
        time.sleep(2)
    pytest.fail("heat-engine did not register the plugin again after the restart")


@pytest.fixture(scope="module")
def yield_mode(host):
    """Switch to failure_mode=yield for a test, and back to reject (the converged value) after."""
    from conftest import Cloud
    cloud = Cloud(host)
    _set_failure_mode(cloud, "yield")
    yield
    _set_failure_mode(cloud, "reject")


def _stack_under_fault(cloud, mode, name):
    """Create stack `name` while valet-api has fault `mode`.

    Returns status, reason, seconds taken and heat-engine's log meanwhile.
    """
    template = cloud.put(TEMPLATE)
    cloud.delete_stack(name)
    offset = cloud.log_size(HEAT_LOG)
    _set_fault(cloud, mode)
    try:
        status, reason, elapsed = cloud.create_stack(template, name)
    finally:
        _clear_fault(cloud, mode)
    cloud.delete_stack(name)
    return status, reason, elapsed, cloud.log_since(HEAT_LOG, offset)


def _lines_with(text, *needles):
    lines = text.splitlines() if isinstance(text, str) else text
    return [line for line in lines if all(needle in line for needle in needles)]


@pytest.mark.parametrize("mode", list(CAUSES))
def test_heat_reject(cloud, mode):
    name = f"molecule-fault-{mode}"
    status, reason, elapsed, log = _stack_under_fault(cloud, mode, name)
    print(f"{mode}: {status} in {elapsed:.1f}s: {reason}")
    assert status == "CREATE_FAILED"
    assert "failure_mode=reject" in reason and CAUSES[mode] in reason, reason
    assert _lines_with(log, "failure_mode=reject", name, CAUSES[mode]), log[-2000:]


@pytest.mark.parametrize("mode", list(CAUSES))
def test_heat_yield(cloud, yield_mode, mode):
    name = f"molecule-yield-{mode}"
    status, reason, elapsed, log = _stack_under_fault(cloud, mode, name)
    print(f"{mode}: {status} in {elapsed:.1f}s")
    assert status == "CREATE_COMPLETE", reason
    assert _lines_with(log, "WARNING", "failure_mode=yield", name, CAUSES[mode]), log[-2000:]
