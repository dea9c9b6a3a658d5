"""Checks of the default scenario (testinfra, run by `molecule verify` after converge = site.yml).

Platform checks first (the test host really runs what testhost-up started), then what the
rollout must have achieved: the Heat plugin registered and planning real stacks through
valet-api, the Nova filter enabled last and loadable, the Keystone footprint, the config
files' ownership, and no secret in any log.
"""

import json
import re

from conftest import HEAT_LOG
from conftest import NOVA_LOG
from conftest import VALET_API_LOG

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SECRETS = ("valet-molecule-secret", "testhost-admin")


def test_keystone_issues_tokens(host):
    # A token needs keystone, its fernet keys and mariadb all working.
    out = host.check_output("OS_CLOUD=testhost openstack token issue -f value -c id")
    assert len(out.strip()) > 20


def test_nova_scheduler_runs(host):
    # Debian's `service nova-scheduler status` misses the python process: look at argv.
    assert host.run("pgrep -f '^/usr/bin/python3 /usr/bin/nova-scheduler'").rc == 0
    rows = host.check_output(
        "mysql -N -B -e \"SELECT host FROM nova.services WHERE \\`binary\\`='nova-scheduler' AND deleted=0\""
    )
    assert host.check_output("hostname").strip() in rows.split()


def test_heat_engine_registered_group_assignment(host):
    log = host.file(HEAT_LOG).content_string
    assert "Registered: [Plugin](User:False) ATT::Valet::GroupAssignment" in log


def test_resource_type_listed_by_heat_api(cloud):
    types = json.loads(cloud.openstack("orchestration resource type list -f json"))
    assert "ATT::Valet::GroupAssignment" in [t["Resource Type"] for t in types]


def test_stack_is_planned_in_valet_and_unplanned_on_delete(cloud):
    name = "molecule-valet-plan"
    template = cloud.put("demo-stack.yaml")
    cloud.delete_stack(name)
    cloud.clear()
    status, reason, _ = cloud.create_stack(template, name)
    assert status == "CREATE_COMPLETE", reason
    stack_id = cloud.openstack(f"stack show -f value -c id {name}").strip()

    posts = [r for r in cloud.requests() if r["method"] == "POST" and r["path"] == "/v1/plans"]
    # One plan, accepted (valet-api checks the plugin's token: a refused one is a 401).
    assert [r["status"] for r in posts] == [201], posts
    # What the plugin sent, as valet-api keeps it.
    body = cloud.plan(stack_id)
    assert body is not None, "valet-api has no plan for stack %s" % stack_id
    assert body["name"] == name and body["stack_id"] == stack_id
    by_name = {res["name"]: (uuid, res) for uuid, res in body["resources"].items()}
    # Only the group assignments are planned; OS::Heat::None members are referenced by uuid.
    assert sorted(by_name) == ["db_exclusivity", "tier_diversity", "web_affinity"]
    assert all(UUID.match(u) for u in body["resources"])
    aff = by_name["web_affinity"][1]
    assert aff["type"] == "ATT::Valet::GroupAssignment"
    assert aff["properties"]["group_type"] == "affinity" and aff["properties"]["level"] == "host"
    members = aff["properties"]["resources"]
    assert len(set(members)) == 2 and all(UUID.match(m) for m in members)
    # The nested group lists the affinity group by the uuid the plan knows it under.
    div = by_name["tier_diversity"][1]["properties"]
    assert div["group_type"] == "diversity" and div["level"] == "rack"
    assert by_name["web_affinity"][0] in div["resources"]
    exc = by_name["db_exclusivity"][1]["properties"]
    assert exc["group_name"] == "demo-db-hosts"

    cloud.clear()
    assert cloud.delete_stack(name) is None
    deletes = [r for r in cloud.requests() if r["method"] == "DELETE"]
    assert [r["path"] for r in deletes] == [f"/v1/plans/{stack_id}"]


def test_invalid_group_assignment_rejected_by_heat(cloud):
    template = cloud.put("invalid-exclusivity.yaml")
    res = cloud.openstack(f"stack create -t {template} molecule-invalid", check=False)
    cloud.delete_stack("molecule-invalid")
    assert res.rc != 0
    assert "lonely: group_name is required when group_type is exclusivity" in res.stderr + res.stdout


def _nova_filters(host):
    code = (
        "import json;from nova import config;import nova.conf as c;"
        "config.parse_args(['x','--config-file','/etc/nova/nova.conf'],configure_db=False,init_rpc=False);"
        "f=c.CONF.filter_scheduler;print(json.dumps([f.available_filters,f.enabled_filters]))"
    )
    return json.loads(host.check_output(f"python3 -c \"{code}\""))


def test_nova_filter_enabled_last_and_available(host):
    available, enabled = _nova_filters(host)
    assert enabled[-1] == "ValetFilter"
    assert "valet_os.nova.valet_filter.ValetFilter" in available
    # Nova's own filters are kept in front of ours.
    assert "ComputeFilter" in enabled


def test_nova_scheduler_log_has_no_filter_error(host):
    log = host.file(NOVA_LOG).content_string
    assert "SchedulerHostFilterNotFound" not in log
    # The fault tests' rejections quote failure_mode: decisions, not errors (a second verify sees them).
    errors = [line for line in log.splitlines() if " ERROR " in line and "valet" in line.lower()]
    assert not [line for line in errors if "(failure_mode=" not in line]


def test_keystone_footprint(cloud):
    user = json.loads(cloud.openstack("user show -f json valet"))
    assert user["enabled"] is True
    roles = json.loads(cloud.openstack("role assignment list --user valet --project service --names -f json"))
    assert [r["Role"] for r in roles] == ["service"]  # least privilege (issue 24.8)
    services = [s for s in json.loads(cloud.openstack("service list --long -f json")) if s["Type"] == "valet"]
    assert [s["Name"] for s in services] == ["valet"]
    endpoints = json.loads(cloud.openstack("endpoint list --service valet -f json"))
    assert sorted(e["Interface"] for e in endpoints) == ["admin", "internal", "public"]
    assert {e["URL"] for e in endpoints} == {"http://127.0.0.1:8090/v1"}
    assert {e["Region"] for e in endpoints} == {"regionOne"}


def test_config_files_keep_owner_group_mode(host):
    for path in ("/etc/heat/heat.conf", "/etc/nova/nova.conf"):
        pristine = "/var/backups/molecule-pristine/" + path.rsplit("/", 1)[1]
        now = host.check_output(f"stat -c '%U:%G %a' {path}")
        before = host.check_output(f"stat -c '%U:%G %a' {pristine}")
        assert now == before, path
        # and the rollout did change the file
        assert host.run(f"cmp -s {path} {pristine}").rc == 1


def test_no_secret_in_logs(host):
    for path in (HEAT_LOG, NOVA_LOG, VALET_API_LOG):
        content = host.file(path).content_string
        assert content, path
        for secret in SECRETS:
            assert secret not in content, (secret, path)
