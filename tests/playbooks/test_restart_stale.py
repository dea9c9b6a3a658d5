"""Rollouts for real against localhost, with stand-in services (playbook_helpers.Controller.with_services).

Issue 24.3: a run interrupted between the config edit and the restart leaves files that are right
and services that still run the old config. The next run must restart them (per component) instead
of reporting "nothing to change".
"""

import pytest
from playbook_helpers import failure_messages
from playbook_helpers import oslo_ini
from valet_api_emulator import ValetApiEmulator


@pytest.fixture
def emulator():
    emu = ValetApiEmulator().start()
    yield emu
    emu.stop()


def recap_changed(proc):
    line = [x for x in proc.stdout.splitlines() if x.startswith("localhost ")][-1]
    return int(line.split("changed=")[1].split()[0])


def _heat_only(controller, emulator):
    controller.with_services()
    controller.groups = {"heat_engine": ["localhost"]}
    controller.vars.update(valet_openstack_api_url=emulator.url, valet_openstack_admin_password="")


def _ok(proc):
    assert proc.returncode == 0, failure_messages(proc.stdout) or proc.stdout[-3000:]
    return proc


def test_files_right_but_service_older_is_restarted(controller, emulator):
    """Interrupted between the edit and the restart: the next run restarts, then is a no-op."""
    _heat_only(controller, emulator)
    _ok(controller.run())
    assert controller.restarts("heat") == 1  # the first rollout restarts the stand-in once
    pid = controller.pid("heat")
    # What the interrupted run left: the file as the role writes it, written after the start.
    controller.heat_conf.write_bytes(controller.heat_conf.read_bytes())
    proc = _ok(controller.run())
    assert "restart the service of heat" in proc.stdout  # the plan says why
    assert controller.restarts("heat") == 2 and controller.pid("heat") != pid
    assert recap_changed(proc) > 0
    proc = _ok(controller.run())
    assert recap_changed(proc) == 0 and controller.restarts("heat") == 2


def test_interrupted_between_the_two_files_restarts_both(controller, emulator, keystone):
    """Interrupted after heat.conf and before nova.conf: the next run edits nova.conf and restarts
    nova-scheduler, and restarts heat-engine too (its file is right, its process is older)."""
    # A user of its own: the session's Keystone and its "valet" user are shared with other files.
    keystone.create_service_user("valet-restart", "valet-test-pw", project="service", role="service")
    controller.with_services()
    controller.vars.update(
        valet_openstack_api_url=emulator.url,
        valet_openstack_admin_auth_url=keystone.auth_url,
        valet_openstack_admin_username="valet-restart",
    )
    _ok(controller.run())
    assert (controller.restarts("heat"), controller.restarts("nova")) == (1, 1)

    # The interrupted run (failure_mode yield): heat.conf and the ledger written, nothing else.
    path, ledger_path = str(controller.heat_conf), str(controller.tmp / "state" / "ini_ledger.json")
    ledger = oslo_ini.load_ledger(ledger_path)
    edit = dict(section="valet", option="failure_mode", value="yield", kind="scalar", state="present")
    res = oslo_ini.apply_change(controller.heat_conf.read_text(), path, edit, ledger["files"][path])
    controller.heat_conf.write_text(res.text)
    ledger["files"][path] = res.ledger
    oslo_ini.save_ledger(ledger_path, ledger)

    proc = _ok(controller.run(extra={"valet_openstack_failure_mode": "yield"}))
    assert (controller.restarts("heat"), controller.restarts("nova")) == (2, 2), proc.stdout[-3000:]
    proc = _ok(controller.run(extra={"valet_openstack_failure_mode": "yield"}))
    assert recap_changed(proc) == 0 and (controller.restarts("heat"), controller.restarts("nova")) == (2, 2)


def test_uninstall_restarts_a_service_older_than_its_file(controller, emulator):
    """An uninstall interrupted before its restart: the next one restarts what may still run Valet."""
    _heat_only(controller, emulator)
    _ok(controller.run())
    _ok(controller.run("playbooks/uninstall.yml"))
    assert controller.restarts("heat") == 2
    controller.heat_conf.write_bytes(controller.heat_conf.read_bytes())  # left by the interrupted run
    _ok(controller.run("playbooks/uninstall.yml"))
    assert controller.restarts("heat") == 3
