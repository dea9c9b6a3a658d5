"""valet-api faults and failure_mode switches, shared by test_faults.py (Heat stacks) and
test_e2e_faults.py (real boots through nova-scheduler).

The scenario converges with short timeouts (play vars in converge.yml) to keep the faults fast: a
paused valet-api costs the client its read timeout, not a hang.
"""

import json
import os
import pathlib
import subprocess
import sys
import time

import pytest
from conftest import HEAT_LOG
from conftest import Cloud

# The real valet-api, made to fail as it fails in a cloud: its service stopped (down), its uwsgi
# processes paused with SIGSTOP (hung: the kernel still accepts connections, nothing answers), or
# its policy refusing the Valet user (a role an operator got wrong). Faults valet-api cannot be made
# to show (a closed connection, a 500, a reply that is not JSON) are tests/plugin_package's, with
# the plugins' own code in Heat's and Nova's.
PAUSE = "pkill -STOP -u valet -f 'uwsgi.*valet_api.wsgi'"
RESUME = "pkill -CONT -u valet -f 'uwsgi.*valet_api.wsgi'"
POLICY = "/etc/valet/policy.yaml"
CAUSES = {
    # mode: what the reason / log line must quote as the cause
    "stopped": "Errno 111",  # nothing listens: connection refused
    "paused": "Read timed out",
    "forbidden": "HTTP 403",
}


def set_fault(cloud, mode):
    if mode == "stopped":
        cloud.stop_valet_api()
    elif mode == "paused":
        cloud.host.check_output(PAUSE)
    elif mode == "forbidden":
        # oslo.policy reads a changed policy file on the next request: no restart.
        cloud.host.check_output(f"printf '%s\\n' '\"valet:plans:create\": \"!\"' > {POLICY}")
        status, body = cloud.valet("POST", "/v1/plans", {})
        assert status == 403, (status, body)
    else:
        raise ValueError(mode)


def clear_fault(cloud, mode):
    if mode == "stopped":
        cloud.start_valet_api()
    elif mode == "paused":
        # It answers the requests that waited meanwhile: the test removes what they left.
        cloud.host.check_output(RESUME)
    elif mode == "forbidden":
        cloud.host.check_output(f"printf '{{}}\\n' > {POLICY}")
    for _ in range(60):
        if cloud.valet("GET", "/v1/status")[0] == 200:
            return
        time.sleep(1)
    pytest.fail("valet-api did not come back after fault %s" % mode)


def sweep_plans(cloud):
    """Delete every plan of a stack or server that no longer exists: what a fault left behind (a
    paused valet-api answers the abandoned requests once resumed)."""
    status, body = cloud.valet("GET", "/v1/plans")
    assert status == 200, body
    stacks = {s["ID"] for s in json.loads(cloud.openstack("stack list --nested -f json"))}
    servers = {s["ID"] for s in json.loads(cloud.openstack("server list --all-projects -f json"))}
    for plan in body["plans"]:
        if plan["stack_id"] not in stacks | servers:
            assert cloud.valet("DELETE", "/v1/plans/" + plan["id"])[0] in (204, 404)


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
