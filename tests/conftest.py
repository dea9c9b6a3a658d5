"""Root test fixtures: a real Keystone shared by the whole session."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keystone_server import KeystoneServer  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_startup = []


@pytest.fixture(scope="session", autouse=True)
def collection_link():
    """The in-tree collection link `make collection-link` makes (FQCN roles, modules, module_utils)."""
    link = os.path.join(REPO, ".collections", "ansible_collections", "valet", "openstack")
    if not os.path.exists(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        try:
            os.symlink("../../..", link)
        except FileExistsError:  # another pytest-xdist worker made it first
            pass


@pytest.fixture(scope="session")
def keystone():
    """A started KeystoneServer (SQLite, fernet, admin/admin in RegionOne).

    Keystone's in-process cache is on, as in deployments (with memcached there): one server
    process takes every write, so nothing reads stale data, and each request costs ~0.01 s
    instead of ~0.25 s. KEYSTONE_FIXTURE_CACHE=0 sends every read to the database.
    """
    with KeystoneServer(cache=os.environ.get("KEYSTONE_FIXTURE_CACHE", "1") == "1") as ks:
        _startup.append(ks.startup_seconds)
        yield ks


def pytest_terminal_summary(terminalreporter):
    # A figure, not an assertion: how long the fixture took to come up.
    for seconds in _startup:
        terminalreporter.write_line("keystone fixture startup: %.1fs" % seconds)


@pytest.fixture(scope="module")
def kc(keystone):
    """An admin keystoneclient, with the `service` project the Valet user belongs to."""
    client = keystone.admin_client()
    if not client.projects.list(name="service", domain="default"):
        client.projects.create("service", "default")
    return client
