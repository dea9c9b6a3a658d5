"""What an operator does while valet-api is down (README "When valet-api does not answer"): under
`reject` every boot, migration, resize, evacuation and stack waits for it, so they switch to `yield`
with the role. The plan must let that run through: valet-api's silence fails it under `reject` and
is a warning under `yield`.

Only validation and the plan run here (the changing tags are skipped), against localhost with
every path in the test's tmp dir; valet-api's port has no listener.
"""

from playbook_helpers import failure_messages
from playbook_helpers import package_state
from test_bad_input import closed_port

PLAN_ONLY = ["--skip-tags", "valet-keystone,valet-install,valet-config,valet-verify"]


def _heat_host_without_password(controller):
    # No Valet password on a heat-only host: the plan asks valet-api, not Keystone.
    controller.groups = {"heat_engine": ["localhost"]}
    controller.vars["valet_openstack_admin_password"] = ""
    controller.vars["valet_openstack_api_url"] = "http://127.0.0.1:%d/v1" % closed_port()


def test_valet_api_down_fails_the_plan_under_reject(controller):
    _heat_host_without_password(controller)
    before = controller.snapshot()
    proc = controller.run(extra={"valet_openstack_failure_mode": "reject"}, options=PLAN_ONLY)
    assert proc.returncode != 0
    assert any("does not answer" in m and "valet_openstack_api_url" in m for m in failure_messages(proc.stdout))
    assert controller.snapshot() == before


def test_valet_api_down_is_a_warning_under_yield(controller):
    _heat_host_without_password(controller)
    before, installed = controller.snapshot(), package_state()
    proc = controller.run(extra={"valet_openstack_failure_mode": "yield"}, options=PLAN_ONLY)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "WARNING: localhost: valet-api at http://127.0.0.1:" in proc.stdout
    assert "go on without Valet" in proc.stdout
    assert controller.snapshot() == before and package_state() == installed
