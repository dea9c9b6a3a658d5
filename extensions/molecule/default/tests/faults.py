"""valet-api faults and failure_mode switches, shared by test_faults.py (Heat stacks) and
test_e2e_faults.py (real boots through nova-scheduler).

The scenario converges with short timeouts (play vars in converge.yml) to keep the faults fast.
"""

import os
import pathlib
import subprocess
import sys
import time

import pytest
import yaml
from conftest import HEAT_LOG
from conftest import Cloud

SCENARIO_VARS = yaml.safe_load((pathlib.Path(__file__).resolve().parent.parent / "converge.yml").read_text())[0]["vars"]
CONNECT = SCENARIO_VARS["valet_openstack_connect_timeout"]
READ = SCENARIO_VARS["valet_openstack_read_timeout"]
RETRIES = SCENARIO_VARS["valet_openstack_retries"]
# Worst case of one valet-api call, plus room for the CLI, Keystone and Heat's own work.
BOUND = (CONNECT + READ) * (RETRIES + 1) + 40
# The emulator sleeps this long when slow: a client without a read timeout would exceed BOUND.
SLOW_DELAY = BOUND + 10
# Only the emulator of this container (the pid file-less process started by testhost-up).
EMULATOR_STOP = "kill $(pgrep -f '^python3 /usr/local/lib/valet-testhost/valet_api_emulator.py')"
EMULATOR_RESTART = EMULATOR_STOP + "; sleep 1; /usr/local/sbin/testhost-up infra"
CAUSES = {
    # mode: what the reason / log line must quote as the cause
    "stopped": "Errno 111",  # nothing listens: connection refused
    "refuse": "Remote end closed connection",
    "slow": "Read timed out",
    "error500": "HTTP 500",
    "unauthorized": "HTTP 401",
}


def set_fault(cloud, mode):
    if mode == "stopped":
        cloud.host.check_output(EMULATOR_STOP)
        # Make sure nothing listens any more (connection refused, not a fault mode).
        for _ in range(50):
            if cloud.host.run("python3 -c \"import socket;socket.create_connection(('127.0.0.1',8090),1)\"").rc:
                return
            time.sleep(0.2)
        pytest.fail("the emulator did not stop")
    cloud.fault(mode, SLOW_DELAY if mode == "slow" else 0)


def clear_fault(cloud, mode):
    if mode == "stopped":
        cloud.host.check_output("/usr/local/sbin/testhost-up infra")
    else:
        cloud.fault("none")


def set_failure_mode(cloud, component, value):
    """[valet] failure_mode in heat.conf or nova.conf with the collection's own module, then the
    service restarted and back with Valet loaded."""
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    ansible = str(pathlib.Path(sys.executable).parent / "ansible")
    subprocess.run(
        [
            ansible,
            "all",
            "-i",
            inventory,
            "-m",
            "valet.openstack.oslo_ini",
            "-a",
            f"path=/etc/{component}/{component}.conf section=valet option=failure_mode value={value} "
            f"ledger=/var/lib/molecule-faults/{component}-ledger.json",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    if component == "nova":
        # testhost-up starts it again and waits until it has re-registered and stays up.
        cloud.host.check_output("service nova-scheduler stop; /usr/local/sbin/testhost-up nova")
        return
    offset = cloud.log_size(HEAT_LOG)
    cloud.host.check_output("service heat-engine restart")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if "ATT::Valet::GroupAssignment" in cloud.log_since(HEAT_LOG, offset):
            return
        time.sleep(2)
    pytest.fail("heat-engine did not register the plugin again after the restart")


def yield_while_testing(component):
    """A module-scoped fixture: failure_mode=yield for `component` while the module's tests run,
    then back to reject (the converged value)."""

    @pytest.fixture(scope="module")
    def fixture(host):
        cloud = Cloud(host)
        set_failure_mode(cloud, component, "yield")
        yield
        set_failure_mode(cloud, component, "reject")

    return fixture
