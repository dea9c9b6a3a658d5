"""After site.yml then uninstall.yml (molecule side_effect): Valet is gone, the config files are
back byte for byte, and heat-engine / nova-scheduler run again with them (testinfra)."""

import json
import time

import pytest

ORIG = "/var/lib/molecule-uninstall"
CONFS = ["/etc/heat/heat.conf", "/etc/nova/nova.conf"]
SERVICES = {
    "heat": ("/usr/bin/heat-engine", "/var/log/heat/heat-engine.log"),
    "nova": ("/usr/bin/nova-scheduler", "/var/log/nova/nova-scheduler.log"),
}
OS = "OS_CLOUD=testhost openstack "


def _json(host, path):
    return json.loads(host.file(path).content_string)


@pytest.mark.parametrize("conf", CONFS)
def test_config_file_is_byte_identical(host, conf):
    copy = f"{ORIG}/{conf.rsplit('/', 1)[1]}"
    # Compare digests: a failing byte comparison would print nova.conf, secrets included.
    assert host.file(conf).sha256sum == host.file(copy).sha256sum


@pytest.mark.parametrize("conf", CONFS)
def test_config_file_keeps_owner_group_mode(host, conf):
    before = _json(host, f"{ORIG}/stat.json")[conf]
    f = host.file(conf)
    assert (f.user, f.group, f.mode) == (before["pw_name"], before["gr_name"], int(before["mode"], 8))


def test_package_is_gone(host):
    assert host.run("python3 -m pip show valet-openstack").rc != 0
    assert host.run("python3 -c 'import valet_os'").rc != 0
    # No Heat entry point left behind by a half-removed distribution.
    eps = host.check_output(
        "python3 -c \"from importlib.metadata import entry_points;"
        "print([e.value for e in entry_points(group='heat.stack_lifecycle_plugins')])\""
    )
    assert "valet" not in eps
    assert not host.file("/opt/valet_os/src").exists
    # The copies of nova.conf taken before each rollout hold the Valet password (issue 24.10).
    assert not host.file("/var/backups/valet_openstack").exists


def test_no_plugin_dir_entry(host):
    out = host.run("grep -n -i valet /etc/heat/heat.conf")
    assert out.rc == 1, out.stdout


def _current_pids(host, binary):
    out = host.run(f"pgrep -f '^/usr/bin/python3 {binary}'")
    return set(out.stdout.split())


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_service_restarted_and_logging(host, name):
    binary, log = SERVICES[name]
    before = _json(host, f"{ORIG}/before.json")
    pids = _current_pids(host, binary)
    assert pids, f"{binary} is not running"
    assert before[f"{name}_pid"] not in pids, "not restarted by the uninstall"
    # oslo.log lines: "<date> <time> <pid> <LEVEL> ..."; a line from a current pid after the
    # recorded size proves the restarted process got through its start-up far enough to log.
    f = host.file(log)
    fresh = f.content[before[f"{name}_log"] :].decode(errors="replace").splitlines()
    own = [line for line in fresh if len(line.split()) > 3 and line.split()[2] in pids]
    assert own, f"no line from pids {pids} in {log} since the uninstall"
    assert not [line for line in fresh if "SchedulerHostFilterNotFound" in line or " CRITICAL " in line]


def test_nova_scheduler_stays_up(host):
    # With a filter it cannot load, nova-scheduler 26 exits at start-up: still being here a while
    # after its first log line means enabled_filters is valid again.
    pids = _current_pids(host, "/usr/bin/nova-scheduler")
    time.sleep(5)
    assert pids and pids <= _current_pids(host, "/usr/bin/nova-scheduler")


def test_resource_type_is_gone(host):
    types = host.check_output(OS + "orchestration resource type list -f value").split()
    assert "OS::Heat::None" in types  # the list itself works
    assert "ATT::Valet::GroupAssignment" not in types


def test_keystone_footprint_is_gone(host):
    assert "valet" not in host.check_output(OS + "user list --domain Default -f value -c Name").split()
    services = host.check_output(OS + "service list -f value -c Name -c Type").split()
    assert "valet" not in services
    endpoints = host.check_output(OS + "endpoint list -f value -c 'Service Type' -c URL")
    assert "valet" not in endpoints.split()
    assert ":8090" not in endpoints
