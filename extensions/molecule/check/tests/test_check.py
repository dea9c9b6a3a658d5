"""site.yml --check --diff on a fresh controller (molecule converge.yml ran it): every change shown,
the package install reported as a change to come, nothing changed, no password printed (testinfra)."""

import os
import re

import pytest

STATE = "/var/lib/molecule-check"
OS = "OS_CLOUD=testhost openstack "
# molecule/shared/group_vars/all.yml and the image's Keystone admin
SECRETS = ["valet-molecule-secret", "testhost-admin"]


@pytest.fixture(scope="module")
def log():
    with open(os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "site-check.log")) as f:
        return f.read()


def changed_tasks(output):
    names, current = [], None
    for line in output.splitlines():
        header = re.match(r"^(?:TASK|RUNNING HANDLER) \[(.*)\] \*+$", line)
        if header:
            current = header.group(1)
        elif line.startswith("changed:") and current and current not in names:
            names.append(current)
    return names


def changed_items(output, task):
    """Loop items reported changed by the task (or handler) whose name ends with `task`."""
    items, current = set(), None
    for line in output.splitlines():
        header = re.match(r"^(?:TASK|RUNNING HANDLER) \[(.*)\] \*+$", line)
        if header:
            current = header.group(1)
            continue
        item = re.match(r"^changed: \[[^\]]+\] => \(item=(.+)\)$", line)
        if item and current and current.endswith(task):
            items.add(item.group(1))
    return items


def test_check_run_passed(log):
    assert log.rstrip().endswith("RC=0"), log[-3000:]
    assert re.search(r"failed=0\s", log)


def test_every_config_change_is_shown(log):
    # nova.conf of Debian's package has no [filter_scheduler] filters: created with Nova's own first
    assert "+available_filters = nova.scheduler.filters.all_filters" in log
    assert "+available_filters = valet_os.nova.valet_filter.ValetFilter" in log
    assert re.search(r"^\+enabled_filters = .*ComputeFilter.*,ValetFilter$", log, re.M)
    # the directory pip will create under /usr/local, as the real run writes it
    assert re.search(r"^\+plugin_dirs = .*/usr/local/etc/valet_os/heat$", log, re.M)
    assert "+stack_scheduler_hints = True" in log
    assert "+[valet]" in log and "+url = http://127.0.0.1:8090/v1" in log


def test_install_and_restarts_are_changes_to_come(log):
    changed = changed_tasks(log)
    assert any(
        re.match(r"valet\.openstack\.valet_openstack : Install \| would install valet-openstack \S+$", n)
        for n in changed
    ), changed
    # one restart handler over the components: both restart after the install
    assert changed_items(log, "Restart the services") >= {"heat-engine", "nova-scheduler"}, changed
    # the Keystone footprint to come
    assert any("valet_keystone" in n for n in changed), changed
    # the user does not exist yet: the plan says so instead of failing
    assert "the Keystone play would still create or change the Valet user" in log


def test_no_password_printed(log):
    for secret in SECRETS:
        assert secret not in log


def test_nothing_changed_on_the_host(host):
    assert host.run("sha256sum --check --quiet %s/confs.sha256" % STATE).rc == 0
    assert host.check_output("python3 -m pip list --format=freeze 2>/dev/null | sort") == host.file(
        STATE + "/pip.txt"
    ).content_string.rstrip("\n")
    assert host.run("python3 -c 'import valet_os'").rc != 0
    for path in ("/var/lib/valet_openstack", "/var/backups/valet_openstack", "/opt/valet_os"):
        assert not host.file(path).exists, path


def test_nothing_changed_in_keystone(host):
    assert host.check_output(OS + "service list -f value -c Name -c Type | sort") == host.file(
        STATE + "/services.txt"
    ).content_string.rstrip("\n")
    assert host.check_output(OS + "user list -f value -c Name | sort") == host.file(
        STATE + "/users.txt"
    ).content_string.rstrip("\n")
