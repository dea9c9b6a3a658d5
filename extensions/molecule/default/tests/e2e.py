"""Real servers on the test host's fake computes: boot, wait, delete, and the figures file.

Shared by test_e2e.py and test_e2e_faults.py. The test host (testhost-up `servers compute`)
runs nova-api, nova-conductor, glance and neutron's API, and four nova-compute services with
Nova's fake virt driver, two per rack by the emulator's rule (rack = host name up to the last "-").
"""

import os
import pathlib

COMPUTE_HOSTS = ["r1-h1", "r1-h2", "r2-h1", "r2-h2"]
FLAVOR = "valet.tiny"
IMAGE = "valet-tiny"
# The filter's module: its log lines are how the scheduler shows Valet's decisions.
FILTER_LOGGER = "valet_os.nova.valet_filter"


def rack_of(host):
    return host.rsplit("-", 1)[0] if "-" in host else host


def boot(cloud, name, timeout=180):
    """A server created without Heat and with no port (the filter's ad-hoc path); Nova's server
    dict (as `openstack server show` prints it) once it is ACTIVE or ERROR."""
    return cloud.ctl("boot", name, FLAVOR, IMAGE, timeout)["server"]


def delete_server(cloud, ident):
    cloud.ctl("delete-server", ident, 120)
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
