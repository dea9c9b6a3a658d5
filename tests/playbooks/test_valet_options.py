"""The [valet] options the role writes (issue 24.7): keystoneauth1's names, and on a host rolled out
by 1.0 / 1.1 the old `admin_*` lines go through the ledger. Shown by `site.yml --check --diff` against
localhost (a heat-engine host with a stand-in service; valet-api is the emulator): nothing is
written, the diff says it all.
"""

import pytest
from playbook_helpers import oslo_ini
from playbook_helpers import package_state
from valet_api_emulator import ValetApiEmulator

# What 1.1 wrote into [valet] (the password only on hosts that had one).
RELEASE_1_1 = [
    ("admin_tenant_name", "service"),
    ("admin_username", "valet"),
    ("admin_password", "old-valet-pw"),
    ("admin_auth_url", "http://127.0.0.1:9/v3"),
    ("admin_user_domain_name", "Default"),
    ("admin_project_domain_name", "Default"),
]


@pytest.fixture
def emulator():
    emu = ValetApiEmulator().start()
    yield emu
    emu.stop()


def _as_release_1_1(controller):
    """heat.conf and the ledger as 1.1's role left them."""
    path = str(controller.heat_conf)
    edits = [
        dict(section="valet", option=option, value=value, kind="scalar", state="present", secret=False)
        for option, value in RELEASE_1_1
    ]
    text, record, _ = oslo_ini.apply_changes(controller.heat_conf.read_text(), path, edits)
    controller.heat_conf.write_text(text)
    ledger = controller.tmp / "state" / "ini_ledger.json"
    oslo_ini.save_ledger(str(ledger), {"version": oslo_ini.LEDGER_VERSION, "files": {path: record}})


def test_keystoneauth_names_replace_release_1_1s(controller, emulator):
    controller.with_services()
    controller.groups = {"heat_engine": ["localhost"]}
    controller.vars.update(
        valet_openstack_api_url=emulator.url,
        valet_openstack_admin_password="",  # heat-only: the plan asks valet-api, not Keystone
        valet_openstack_cafile="/etc/ssl/private-ca.pem",
    )
    _as_release_1_1(controller)
    before, installed = controller.snapshot(), package_state()
    proc = controller.run(options=["--check", "--diff"])
    assert proc.returncode == 0, proc.stdout[-4000:]
    out = proc.stdout
    for option, value in RELEASE_1_1:
        shown = "********" if option == "admin_password" else value
        assert "-%s = %s\n" % (option, shown) in out, option
    for line in (
        "auth_type = password",
        "auth_url = http://127.0.0.1:9/v3",
        "username = valet",
        "project_name = service",
        "user_domain_name = Default",
        "project_domain_name = Default",
        "cafile = /etc/ssl/private-ca.pem",
    ):
        assert "\n+%s\n" % line in out, line
    assert "+insecure" not in out and "old-valet-pw" not in out
    assert controller.snapshot() == before and package_state() == installed
