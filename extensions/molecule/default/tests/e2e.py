"""Real servers on the test host's fake computes: boot, wait, delete, and the figures file.

Shared by test_e2e.py and test_e2e_faults.py. The test host (testhost-up `servers compute`)
runs nova-api, nova-conductor, glance and neutron's API, and four nova-compute services with
Nova's fake virt driver, two per rack: prepare.yml puts them into the Nova host aggregates rack-r1
and rack-r2 (metadata valet_rack), which is where valet-api reads racks from.
"""

import os
import pathlib

COMPUTE_HOSTS = ["r1-h1", "r1-h2", "r2-h1", "r2-h2"]
FLAVOR = "valet.tiny"
IMAGE = "valet-tiny"
# The filter's module: its log lines are how the scheduler shows Valet's decisions.
FILTER_LOGGER = "valet_os.nova.valet_filter"


RACKS = {"r1-h1": "r1", "r1-h2": "r1", "r2-h1": "r2", "r2-h2": "r2"}


def boot(cloud, name, timeout=180):
    """A server created without Heat and with no port (the filter's ad-hoc path); Nova's server
    dict (as `openstack server show` prints it) once it is ACTIVE or ERROR."""
    return cloud.ctl("boot", name, FLAVOR, IMAGE, timeout)["server"]


def delete_server(cloud, ident):
    cloud.ctl("delete-server", ident, 120)
    # The filter's ad-hoc plan is keyed by the instance uuid: deleted with the server, as an
    # operator's tooling would through the API.
    status, body = cloud.valet("DELETE", "/v1/plans/" + ident)
    assert status in (204, 404), (status, body)


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
