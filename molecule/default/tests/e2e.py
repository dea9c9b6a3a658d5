"""Real servers on the test host's fake computes: boot, wait, delete, and the figures file.

Shared by test_e2e.py and test_e2e_faults.py. The test host (testhost-up `servers compute`)
runs nova-api, nova-conductor, glance and neutron's API, and four nova-compute services with
Nova's fake virt driver, two per rack by the emulator's rule (rack = host name up to the last "-").
"""

import json
import os
import pathlib
import time

import pytest

COMPUTE_HOSTS = ["r1-h1", "r1-h2", "r2-h1", "r2-h2"]
FLAVOR = "valet.tiny"
IMAGE = "valet-tiny"
# The filter's module: its log lines are how the scheduler shows Valet's decisions.
FILTER_LOGGER = "valet_os.nova.valet_filter"


def rack_of(host):
    return host.rsplit("-", 1)[0] if "-" in host else host


def boot(cloud, name):
    """`openstack server create` without Heat (the filter's ad-hoc path); returns the id."""
    # --nic none needs compute API 2.37; the server gets no port.
    out = cloud.openstack(
        f"--os-compute-api-version 2.37 server create -f json --flavor {FLAVOR} --image {IMAGE} --nic none {name}"
    )
    return json.loads(out)["id"]


def server(cloud, ident):
    return json.loads(cloud.openstack(f"server show -f json {ident}"))


def wait_server(cloud, ident, timeout=180):
    """The server once it is ACTIVE or ERROR."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        show = server(cloud, ident)
        if show["status"] in ("ACTIVE", "ERROR"):
            return show
        time.sleep(1)
    pytest.fail(f"server {ident} neither ACTIVE nor ERROR after {timeout}s: {show['status']}")


def delete_server(cloud, ident):
    cloud.openstack(f"server delete --wait {ident}", check=False)
    # The filter's ad-hoc plan is keyed by the instance uuid; valet-api would learn of the
    # deletion from its own sources, the emulator is told through the API (any token will do).
    cloud.host.run(
        "python3 -c \"import urllib.request as u;"
        f"u.urlopen(u.Request('http://127.0.0.1:8090/v1/plans/{ident}',method='DELETE',"
        "headers={'X-Auth-Token':'test'}),timeout=10)\""
    )


def filter_lines(log, instance_id):
    return [line for line in log.splitlines() if FILTER_LOGGER in line and instance_id in line]


def figures_file():
    """Where figures go for tests/molecule-suite.sh to print in its summary."""
    base = os.environ.get("VALET_MOLECULE_LOG_DIR") or os.path.join(
        os.environ.get("MOLECULE_PROJECT_DIRECTORY", "."), "tests", "output", "molecule"
    )
    path = pathlib.Path(base) / "figures.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def record_figure(label, value):
    # The instance names the release when both default runs write to the same file.
    line = "%-22s %-44s %s" % (os.environ.get("VALET_DEFAULT_INSTANCE", "valet-default"), label, value)
    print(line)
    with figures_file().open("a") as out:
        out.write(line + "\n")
