"""Root test fixtures: a real Keystone shared by the whole session."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keystone_server import KeystoneServer  # noqa: E402

_startup = []


@pytest.fixture(scope="session")
def keystone():
    """A started KeystoneServer (SQLite, fernet, admin/admin in RegionOne).

    KEYSTONE_FIXTURE_CACHE=1 turns Keystone's in-process cache on (much
    faster per request; off by default so that every read hits the database).
    """
    with KeystoneServer(cache=os.environ.get("KEYSTONE_FIXTURE_CACHE") == "1") as ks:
        _startup.append(ks.startup_seconds)
        yield ks


def pytest_terminal_summary(terminalreporter):
    # A figure, not an assertion: how long the fixture took to come up.
    for seconds in _startup:
        terminalreporter.write_line("keystone fixture startup: %.1fs" % seconds)
