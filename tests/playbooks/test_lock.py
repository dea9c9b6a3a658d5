"""One run at a time on a host (issue 24.4): the rollout takes a lock file under the ledger's
directory; a run that finds it held stops before any change, naming the holder and how to clear a
stale lock. A run releases its lock at the end, failed or not. Stand-in services, valet-api emulator.
"""

import json

import pytest
from playbook_helpers import failure_messages
from valet_api_emulator import ValetApiEmulator

HOLDER = {"token": "other-run", "controller": "ctl-admin-7", "user": "alice", "started": "2026-12-01T08:00:00Z"}


@pytest.fixture
def emulator():
    emu = ValetApiEmulator().start()
    yield emu
    emu.stop()


@pytest.fixture
def heat_host(controller, emulator):
    controller.with_services()
    controller.groups = {"heat_engine": ["localhost"]}
    controller.vars.update(valet_openstack_api_url=emulator.url, valet_openstack_admin_password="")
    return controller


def test_a_held_lock_stops_the_run_before_any_change(heat_host):
    lock = heat_host.tmp / "state" / "rollout.lock"
    lock.parent.mkdir()
    lock.write_text(json.dumps(HOLDER))
    before = heat_host.snapshot()
    proc = heat_host.run()
    assert proc.returncode != 0
    (msg,) = [m for m in failure_messages(proc.stdout) if "another run" in m]
    for part in ("alice", "ctl-admin-7", "2026-12-01T08:00:00Z", "Nothing was changed", "rm %s" % lock):
        assert part in msg, part
    assert heat_host.snapshot() == before and heat_host.restarts("heat") == 0


def test_the_lock_is_released_after_a_run_failed_or_not(heat_host):
    lock = heat_host.tmp / "state" / "rollout.lock"
    proc = heat_host.run()
    assert proc.returncode == 0, failure_messages(proc.stdout)
    assert not lock.exists()
    # A failed rollout (the service does not start: verify fails, the host is restored) releases it too.
    spec = heat_host.services / (heat_host.names["heat"] + ".json")
    spec.write_text(json.dumps({"argv": ["true"]}))
    proc = heat_host.run(extra={"valet_openstack_failure_mode": "yield"})
    assert proc.returncode != 0 and any("rollout failed" in m for m in failure_messages(proc.stdout))
    assert not lock.exists()
