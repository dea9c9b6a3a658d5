"""The `host` of every scenario's testinfra tests runs its commands with `podman exec`.

Molecule hands testinfra its Ansible inventory, and testinfra's ansible backend has a direct path
for ssh, docker and lxc hosts only: for a podman host each command became a whole `ansible` ad hoc
run (a Python start, the inventory, the module shipped over), seconds of CPU per command. With
hundreds of commands per verify and three test clouds on CI's 2 cores, that was most of the time.
Hosts on any other connection keep testinfra's own backend.
"""

import pytest
import testinfra

PODMAN = ("podman", "containers.podman.podman")


@pytest.fixture(scope="module")
def host_via_ansible(_testinfra_host):
    """testinfra's own host, for the tests that run an Ansible module on it (host.ansible)."""
    return _testinfra_host


@pytest.fixture(scope="module")
def host(host_via_ansible):
    backend = host_via_ansible.backend
    if backend.NAME != "ansible":
        return host_via_ansible
    hostvars = backend.ansible_runner.get_variables(backend.host)
    if hostvars.get("ansible_connection") not in PODMAN:
        return host_via_ansible
    return testinfra.get_host("podman://" + hostvars.get("ansible_host", backend.host))
