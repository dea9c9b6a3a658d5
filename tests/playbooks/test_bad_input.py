"""Wrong inputs stop playbooks/site.yml before anything changes, with a message naming the culprit.

Each case runs ansible-playbook for real against localhost (connection local). Every path the role
would touch lives in the test's tmp dir; the test proves rc != 0, that the message names the
variable or the file, that the tmp tree is byte-identical afterwards (config files untouched, no
ledger, no backup, no staged source) and that valet-openstack is installed exactly as before.

`python tests/playbooks/test_bad_input.py` renders docs/bad-input.md from the messages the last
pytest run saw (tests/output/bad_input.jsonl).
"""

import json
import os
import socket
import subprocess
import sys
import time

import pytest
from playbook_helpers import REPO
from playbook_helpers import VENV
from playbook_helpers import failure_messages
from playbook_helpers import package_state

RECORD = os.path.join(REPO, "tests", "output", "bad_input.jsonl")


def closed_port():
    """A loopback port with no listener (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _missing_conf(c):
    c.heat_conf.unlink()


def _broken_conf(c):
    c.nova_conf.write_text("[DEFAULT]\ndebug = False\n[filter_scheduler\nenabled_filters = ComputeFilter\n")


def _conf_is_dir(c):
    c.heat_conf.unlink()
    c.heat_conf.mkdir()


def _no_groups(c):
    c.groups = {"controllers": ["localhost"]}


def _empty_venv(c):
    (c.tmp / "venv").mkdir()
    c.vars["valet_openstack_venv"] = str(c.tmp / "venv")


def _venv_without_wheel(c):
    # What `python3 -m venv` gives on Debian 12: pip and setuptools 66, no wheel.
    venv = c.tmp / "bare-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    for service in ("heat-engine", "nova-scheduler"):
        script = venv / "bin" / service
        script.write_text("#!/bin/sh\n")
        script.chmod(0o755)
    c.vars["valet_openstack_venv"] = str(venv)


def _world_readable_conf(c):
    c.nova_conf.chmod(0o644)


def _stray_host(c):
    # A host outside both groups, reached by widening the play's host pattern.
    c.groups = {"heat_engine": ["ctl1"]}
    c.hostvars = {"stray": {}}
    c.vars["valet_site_controllers"] = "all"


def _valet_api(c, hosts=("localhost",)):
    """A valet_api group (roles/valet_api) with every path it would touch in the tmp dir."""
    c.groups["valet_api"] = list(hosts)
    c.vars.update(
        {
            "valet_api_password": "valet-test-pw",
            "valet_api_auth_url": "http://127.0.0.1:%d/v3" % closed_port(),
            "valet_api_port": closed_port(),
            "valet_api_conf_dir": str(c.tmp / "valet-etc"),
            "valet_api_state_dir": str(c.tmp / "valet-lib"),
            "valet_api_log_dir": str(c.tmp / "valet-log"),
            "valet_api_src_dir": str(c.tmp / "valet-src"),
            "valet_api_backup_dir": str(c.tmp / "valet-backups"),
            "valet_api_venv": str(c.tmp / "valet-venv"),
        }
    )


def _valet_api_setup(extra=None, hosts=("localhost",)):
    def setup(c):
        _valet_api(c, hosts)
        c.vars.update(extra or {})

    return setup


# id, what is wrong (for docs/bad-input.md), extra vars, setup, substrings the message must contain
CASES = [
    (
        "old-deployment-variable",
        "`valet_openstack_deployment: osa` (1.2's variable; the `valet_deploy_tool` role replaced it)",
        {"valet_openstack_deployment": "osa"},
        None,
        ["valet_openstack_deployment", "valet_deploy_tool_name (role valet.openstack.valet_deploy_tool)"],
    ),
    (
        "deploy-tool-name",
        "`valet_deploy_tool_name: chef`",
        {"valet_deploy_tool_name": "chef"},
        None,
        ["valet_deploy_tool_name = 'chef'", "osa", "kolla"],
    ),
    (
        "missing-password",
        "`valet_openstack_admin_password` empty on a nova-scheduler host",
        {"valet_openstack_admin_password": ""},
        None,
        ["valet_openstack_admin_password is required", "nova_scheduler"],
    ),
    (
        "url-no-scheme",
        "`valet_openstack_api_url: valet-api:8090/v1` (no scheme)",
        {"valet_openstack_api_url": "valet-api:8090/v1"},
        None,
        ["valet_openstack_api_url", "valet-api:8090/v1", "http or https"],
    ),
    (
        "url-port-range",
        "`valet_openstack_api_url: http://valet-api:70000/v1` (port out of range)",
        {"valet_openstack_api_url": "http://valet-api:70000/v1"},
        None,
        ["valet_openstack_api_url", "1-65535"],
    ),
    (
        "url-port-zero",
        "`valet_openstack_api_url: http://valet-api:0/v1`",
        {"valet_openstack_api_url": "http://valet-api:0/v1"},
        None,
        ["valet_openstack_api_url", "1-65535"],
    ),
    (
        "auth-url-scheme",
        "`valet_openstack_admin_auth_url: ftp://keystone/v3`",
        {"valet_openstack_admin_auth_url": "ftp://keystone/v3"},
        None,
        ["valet_openstack_admin_auth_url", "http or https"],
    ),
    (
        "cafile-relative",
        "`valet_openstack_cafile: certs/ca.pem` (not an absolute path)",
        {"valet_openstack_cafile": "certs/ca.pem"},
        None,
        ["valet_openstack_cafile", "certs/ca.pem", "absolute path"],
    ),
    (
        "cafile-and-insecure",
        "`valet_openstack_insecure: true` with `valet_openstack_cafile` set",
        {"valet_openstack_insecure": True, "valet_openstack_cafile": "/etc/ssl/valet-ca.pem"},
        None,
        ["valet_openstack_insecure", "valet_openstack_cafile", "Set one of them"],
    ),
    (
        "failure-mode",
        "`valet_openstack_failure_mode: explode`",
        {"valet_openstack_failure_mode": "explode"},
        None,
        ["valet_openstack_failure_mode", "reject", "yield"],
    ),
    (
        "option-style",
        "`valet_openstack_nova_option_style: legacy` (removed: Nova 23 dropped those names)",
        {"valet_openstack_nova_option_style": "legacy"},
        None,
        ["valet_openstack_nova_option_style was removed", "[filter_scheduler]"],
    ),
    (
        "install-mode",
        "`valet_openstack_install_mode: editable`",
        {"valet_openstack_install_mode": "editable"},
        None,
        ["valet_openstack_install_mode", "production", "development"],
    ),
    (
        "state",
        "`valet_openstack_state: removed`",
        {"valet_openstack_state": "removed"},
        None,
        ["valet_openstack_state", "present", "absent"],
    ),
    (
        "negative-timeout",
        "`valet_openstack_connect_timeout: -1`",
        {"valet_openstack_connect_timeout": -1},
        None,
        ["valet_openstack_connect_timeout", "> 0"],
    ),
    (
        "zero-settle-timeout",
        "`valet_openstack_settle_timeout: 0`",
        {"valet_openstack_settle_timeout": 0},
        None,
        ["valet_openstack_settle_timeout", "> 0"],
    ),
    (
        "retries-not-int",
        "`valet_openstack_retries: many`",
        {"valet_openstack_retries": "many"},
        None,
        ["valet_openstack_retries", "int"],
    ),
    (
        "negative-retries",
        "`valet_openstack_retries: -2`",
        {"valet_openstack_retries": -2},
        None,
        ["valet_openstack_retries", ">= 0"],
    ),
    (
        "empty-username",
        "`valet_openstack_admin_username: ''` on a nova-scheduler host",
        {"valet_openstack_admin_username": ""},
        None,
        ["valet_openstack_admin_username must not be empty"],
    ),
    (
        "venv-missing",
        "`valet_openstack_venv` pointing to a directory that does not exist",
        {"valet_openstack_venv": "/nonexistent/venvs/heat-27"},
        None,
        ["valet_openstack_venv", "/nonexistent/venvs/heat-27", "does not exist"],
    ),
    (
        "venv-no-python",
        "`valet_openstack_venv` is a directory without `bin/python`",
        {},
        _empty_venv,
        ["valet_openstack_venv", "bin/python is missing"],
    ),
    (
        "venv-no-wheel",
        "`valet_openstack_venv` without wheel (and setuptools < 70.1) while pip runs offline",
        {},
        _venv_without_wheel,
        ["valet_openstack_pip_extra_args", "--no-build-isolation", "wheel"],
    ),
    (
        "no-groups",
        "inventory without a `heat_engine` or `nova_scheduler` group",
        {},
        _no_groups,
        ["valet_openstack_heat_group", "heat_engine", "nova_scheduler", "nothing to roll out"],
    ),
    (
        "stray-host",
        "a host in neither group reached by the play (`valet_site_controllers: all`)",
        {},
        _stray_host,
        ["stray is neither in group 'heat_engine'", "valet_openstack_heat_group"],
    ),
    (
        "conf-is-dir",
        "`valet_openstack_heat_conf` is a directory",
        {},
        _conf_is_dir,
        ["valet_openstack_heat_conf", "is a directory"],
    ),
    (
        "conf-missing",
        "heat.conf does not exist",
        {},
        _missing_conf,
        ["valet_openstack_heat_conf", "heat.conf does not exist"],
    ),
    (
        "conf-syntax",
        "nova.conf with a syntax error (`[filter_scheduler` without `]`)",
        {},
        _broken_conf,
        ["valet_openstack_nova_conf", "nova.conf: line 3"],
    ),
    (
        "keystone-region",
        "`valet_keystone_region: ''` (valet_keystone role, checked before any change)",
        {
            "valet_site_keystone": True,
            "valet_keystone_region": "",
            "valet_keystone_password": "valet-test-pw",
            "valet_keystone_api_url": "http://127.0.0.1:9/v1",
            "valet_keystone_auth": {
                "auth_url": "http://127.0.0.1:9/v3",
                "username": "admin",
                "password": "admin-pw",
                "project_name": "admin",
            },
        },
        None,
        ["valet_keystone_region"],
    ),
    (
        "password-int",
        "`valet_openstack_admin_password: 12345` (YAML reads an integer)",
        {"valet_openstack_admin_password": 12345},
        None,
        ["valet_openstack_admin_password must be a string, not int", "quote it"],
    ),
    (
        "password-newline",
        "`valet_openstack_admin_password` with a line break in it",
        {"valet_openstack_admin_password": "first-line\nsecond-line"},
        None,
        ["valet_openstack_admin_password must be one line"],
    ),
    (
        "password-blank-end",
        "`valet_openstack_admin_password` ending with a blank",
        {"valet_openstack_admin_password": "valet-pw "},
        None,
        ["valet_openstack_admin_password must be one line without blanks at its start or end"],
    ),
    (
        "backup-dir-empty",
        "`valet_openstack_backup_dir: ''`",
        {"valet_openstack_backup_dir": ""},
        None,
        ["valet_openstack_backup_dir = ''", "absolute path other than /"],
    ),
    (
        "backup-dir-root",
        "`valet_openstack_backup_dir: /`",
        {"valet_openstack_backup_dir": "/"},
        None,
        ["valet_openstack_backup_dir = '/'", "absolute path other than /"],
    ),
    (
        "backup-dir-relative",
        "`valet_openstack_backup_dir: backups` (relative)",
        {"valet_openstack_backup_dir": "backups"},
        None,
        ["valet_openstack_backup_dir", "absolute path other than /"],
    ),
    (
        "backup-keep-zero",
        "`valet_openstack_backup_keep: 0`",
        {"valet_openstack_backup_keep": 0},
        None,
        ["valet_openstack_backup_keep = 0", ">= 1"],
    ),
    (
        "src-dir-root",
        "`valet_openstack_src_dir: /`",
        {"valet_openstack_src_dir": "/"},
        None,
        ["valet_openstack_src_dir = '/'", "absolute path other than /"],
    ),
    (
        "conf-world-readable",
        "nova.conf readable by every user (mode 0644) while the Valet password goes in",
        {},
        _world_readable_conf,
        ["valet_openstack_nova_conf", "nova.conf is readable by every user (mode 0644)", "chmod o-r"],
    ),
    (
        "service-missing",
        "`valet_openstack_nova_service: nova-schedulr` (no such service)",
        {"valet_openstack_nova_service": "nova-schedulr"},
        None,
        ["nova-schedulr", "valet_openstack_nova_service", "not found"],
    ),
    (
        "valet-api-db-no-driver",
        "`valet_api_database_url: mysql://valet:PASSWORD@db/valet` (no driver)",
        {},
        _valet_api_setup({"valet_api_database_url": "mysql://valet:db-secret-pw@db.example.com/valet"}),
        ["valet_api_database_url", "mysql://valet:********@db.example.com/valet", "no database driver", "pymysql"],
    ),
    (
        "valet-api-sqlite-several-hosts",
        "SQLite `valet_api_database_url` (the default) with two hosts in group `valet_api`",
        {},
        _valet_api_setup(hosts=("localhost", "api2")),
        ["valet_api_database_url is SQLite", "one valet-api host only", "has 2 hosts"],
    ),
    (
        "valet-api-db-no-password",
        "`valet_api_database_url: mysql+pymysql://valet@db/valet` (no password)",
        {},
        _valet_api_setup({"valet_api_database_url": "mysql+pymysql://valet@db.example.com/valet"}),
        ["valet_api_database_url", "needs a user, a password, a host and a database name"],
    ),
    (
        "valet-api-no-password",
        "`valet_api_password` empty",
        {},
        _valet_api_setup({"valet_api_password": ""}),
        ["valet_api_password is required"],
    ),
    (
        "valet-api-install-method",
        "`valet_api_install_method: pip`",
        {},
        _valet_api_setup({"valet_api_install_method": "pip"}),
        ["valet_api_install_method", "distro", "venv"],
    ),
    (
        "valet-api-host-pattern",
        "`valet_api_rack_source: host_pattern` with a pattern without a `rack` group",
        {},
        _valet_api_setup({"valet_api_rack_source": "host_pattern", "valet_api_rack_host_pattern": "^(r[0-9]+)-"}),
        ["valet_api_rack_host_pattern", "named group 'rack'"],
    ),
]


def record(case_id, what, msg):
    os.makedirs(os.path.dirname(RECORD), exist_ok=True)
    with open(RECORD, "a") as f:
        f.write(json.dumps({"id": case_id, "input": what, "message": msg}) + "\n")


def assert_stopped_cleanly(controller, proc, expected, before, pkg_before):
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    msgs = failure_messages(proc.stdout)
    assert msgs, output
    joined = " | ".join(msgs)
    for text in expected:
        assert text in joined, "%r not in %r" % (text, joined)
    # Nothing changed: same files with the same bytes, no ledger / backup / staged source.
    assert controller.snapshot() == before
    assert package_state() == pkg_before
    # The rollout never started.
    assert "Backup |" not in proc.stdout and "Install |" not in proc.stdout
    # For the docs: the tmp dir and the test venv as an operator would see them.
    return msgs[0].replace(str(controller.tmp), "/srv/test").replace(VENV, "/openstack/venvs/heat-27")


@pytest.mark.parametrize("case_id,what,extra,setup,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input_stops_before_any_change(controller, case_id, what, extra, setup, expected):
    if setup:
        setup(controller)
    before = controller.snapshot()
    pkg_before = package_state()
    proc = controller.run(extra=extra)
    msg = assert_stopped_cleanly(controller, proc, expected, before, pkg_before)
    record(case_id, what, msg)


def test_unreachable_valet_api(controller):
    port = closed_port()
    controller.vars["valet_openstack_api_url"] = "http://127.0.0.1:%d/v1" % port
    before, pkg_before = controller.snapshot(), package_state()
    proc = controller.run()
    msg = assert_stopped_cleanly(
        controller, proc, ["valet_openstack_api_url", "127.0.0.1:%d" % port, "does not answer"], before, pkg_before
    )
    record("api-unreachable", "valet-api not listening at `valet_openstack_api_url`", msg)


def test_url_with_credentials_refused_without_printing_them(controller):
    """Issue 24.13: the message says what is wrong with the URL and never shows the user:password."""
    controller.vars["valet_openstack_api_url"] = "http://valet:Url-S3cret@valet-api:8090/v1"
    controller.vars["valet_openstack_admin_auth_url"] = "https://admin:Ks-S3cret@keystone:5000/v3"
    before, pkg_before = controller.snapshot(), package_state()
    proc = controller.run()
    msg = assert_stopped_cleanly(
        controller,
        proc,
        [
            "valet_openstack_api_url = 'http://***@valet-api:8090/v1'",
            "valet_openstack_admin_auth_url = 'https://***@keystone:5000/v3'",
            "no user or password",
        ],
        before,
        pkg_before,
    )
    output = proc.stdout + proc.stderr
    assert "S3cret" not in output and "valet:Url" not in output and "admin:Ks" not in output
    record("url-credentials", "`valet_openstack_api_url: http://user:password@valet-api:8090/v1`", msg)


def test_password_messages_never_show_the_password(controller):
    """Issue 24.13: the password's own checks name the variable, not the conf paths, and never print it."""
    controller.vars["valet_openstack_admin_password"] = "Pw-First\nPw-Second"
    proc = controller.run()
    msgs = " | ".join(failure_messages(proc.stdout))
    assert "valet_openstack_admin_password must be one line" in msgs
    assert "valet_openstack_nova_conf" not in msgs and "valet_openstack_heat_conf" not in msgs
    assert "Pw-First" not in proc.stdout + proc.stderr


@pytest.fixture
def small_fs(controller):
    """A 64 KiB tmpfs in the test's tmp dir, unmounted after (mounting needs root, as CI runs)."""
    mnt = controller.tmp / "etc-heat"
    mnt.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True, check=False
    )
    if proc.returncode != 0:
        pytest.skip("needs mount (root): %s" % proc.stderr.decode().strip())
    yield mnt
    subprocess.run(["umount", str(mnt)], check=True)


def _heat_conf_in(controller, directory):
    conf = directory / "heat.conf"
    conf.write_bytes(controller.heat_conf.read_bytes())
    conf.chmod(0o640)
    controller.heat_conf.unlink()
    controller.vars["valet_openstack_heat_conf"] = str(conf)
    return conf


def test_read_only_config_directory_stops_the_plan(controller, small_fs):
    """Issue 24.12: a directory heat.conf cannot be written in stops the plan, before pip runs."""
    _heat_conf_in(controller, small_fs)
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    before, pkg_before = controller.snapshot(), package_state()
    proc = controller.run()
    msg = assert_stopped_cleanly(
        controller, proc, ["valet_openstack_heat_conf", "is not writable", "Read-only file system"], before, pkg_before
    )
    record("conf-dir-read-only", "heat.conf in a read-only directory", msg)


def test_full_config_directory_stops_the_plan(controller, small_fs):
    """Issue 24.12: no room for the new heat.conf next to the old one: the plan says so, nothing changes."""
    _heat_conf_in(controller, small_fs)
    filler = open(str(small_fs / "filler"), "wb", buffering=0)
    try:
        while True:
            filler.write(b"x" * 1024)
    except OSError:
        pass
    try:
        filler.close()
    except OSError:
        pass
    before, pkg_before = controller.snapshot(), package_state()
    proc = controller.run()
    msg = assert_stopped_cleanly(
        controller, proc, ["valet_openstack_heat_conf", "bytes free, the new file needs"], before, pkg_before
    )
    assert not [n for n in os.listdir(str(small_fs)) if n.startswith(".oslo_ini.")]
    record("conf-dir-full", "heat.conf's file system full", msg)


def test_valet_api_port_in_use(controller):
    """valet_api_port held by another process: the valet-api plan stops every host before any change."""
    _valet_api(controller)
    port = closed_port()
    controller.vars["valet_api_port"] = port
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=str(controller.tmp),
    )
    try:
        for _attempt in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        before, pkg_before = controller.snapshot(), package_state()
        proc = controller.run()
    finally:
        server.terminate()
        server.wait()
    expected = ["port %d (valet_api_port) is in use by" % port, "http.server"]
    msg = assert_stopped_cleanly(controller, proc, expected, before, pkg_before)
    record("valet-api-port", "`valet_api_port` held by another process on the valet-api host", msg)


def test_valet_api_user_gets_no_token(controller, keystone):
    # A user of its own: the session's Keystone and its "valet" user are shared with other files.
    keystone.create_service_user("valet-api-input", "the-right-password")
    _valet_api(controller)
    controller.vars.update(
        {
            "valet_api_auth_url": keystone.auth_url,
            "valet_api_username": "valet-api-input",
            "valet_api_password": "a-wrong-password",
        }
    )
    before, pkg_before = controller.snapshot(), package_state()
    proc = controller.run()
    msg = assert_stopped_cleanly(
        controller,
        proc,
        [
            "(valet_api_auth_url) did not issue a token",
            "'valet-api-input' (valet_api_username)",
            "valet_api_password",
            "401",
        ],
        before,
        pkg_before,
    )
    assert "a-wrong-password" not in proc.stdout + proc.stderr
    record("valet-api-token", "Keystone issues no token for the Valet user of `valet_api_password`", msg)


def test_valet_api_cannot_read_the_racks(controller, keystone):
    """A token but no Nova in the catalog: the rack aggregates cannot be read, the plan stops."""
    # A user of its own: the session's Keystone and its "valet" user are shared with other files.
    keystone.create_service_user("valet-api-input", "the-right-password")
    _valet_api(controller)
    controller.vars.update(
        {
            "valet_api_auth_url": keystone.auth_url,
            "valet_api_username": "valet-api-input",
            "valet_api_password": "the-right-password",
        }
    )
    before, pkg_before = controller.snapshot(), package_state()
    proc = controller.run()
    msg = assert_stopped_cleanly(
        controller,
        proc,
        ["Nova's host aggregates could not be read", "valet_api_rack_aggregate_key", "no compute endpoint"],
        before,
        pkg_before,
    )
    record("valet-api-racks-unreadable", "Nova's aggregates unreadable with the Valet user (no compute endpoint)", msg)


@pytest.fixture
def emulator():
    from valet_api_emulator import ValetApiEmulator

    emu = ValetApiEmulator()
    emu.start()
    yield emu
    emu.stop()


def test_one_bad_host_stops_every_host(controller, emulator):
    """ctl1 (heat) passes preflight, ctl2 (nova) cannot get a token: ctl1 is not touched either."""
    controller.groups = {"heat_engine": ["ctl1"], "nova_scheduler": ["ctl2"]}
    controller.vars["valet_openstack_api_url"] = emulator.url
    controller.vars["valet_openstack_admin_auth_url"] = "http://127.0.0.1:%d/v3" % closed_port()
    # Per-host values go to the inventory (extra vars would win over them). ctl1 carries only
    # Heat: without a password it skips the Keystone check, so it passes preflight.
    del controller.vars["valet_openstack_admin_password"]
    controller.hostvars = {"ctl2": {"valet_openstack_admin_password": "valet-test-pw"}}
    before, pkg_before = controller.snapshot(), package_state()
    proc = controller.run()
    assert_stopped_cleanly(controller, proc, ["ctl2: Keystone at", "did not issue a token"], before, pkg_before)
    assert "ctl1: " not in " ".join(failure_messages(proc.stdout))
    # Both hosts asked valet-api for its versions: ctl1 was healthy and still was not changed.
    assert [r["path"] for r in emulator.requests].count("/") == 2


def test_keystone_rejects_the_valet_password(controller, emulator, keystone):
    # A user of its own: the session's Keystone and its "valet" user are shared with other files.
    keystone.create_service_user("valet-bad-input", "the-right-password")
    controller.vars.update(
        {
            "valet_openstack_api_url": emulator.url,
            "valet_openstack_admin_auth_url": keystone.auth_url,
            "valet_openstack_admin_username": "valet-bad-input",
            "valet_openstack_admin_password": "a-wrong-password",
        }
    )
    before, pkg_before = controller.snapshot(), package_state()
    proc = controller.run()
    msg = assert_stopped_cleanly(
        controller,
        proc,
        ["valet_openstack_admin_password", "did not issue a token", "'valet-bad-input'", "status 401"],
        before,
        pkg_before,
    )
    assert "a-wrong-password" not in proc.stdout + proc.stderr
    record("keystone-rejects", "Keystone rejects the Valet user's password", msg)


def test_keystone_service_type_placement_collides(controller, emulator, keystone):
    """The whole site.yml order: Keystone play refuses type placement, the controllers stay untouched."""
    kc = keystone.admin_client()
    if not kc.services.list(name="placement", type="placement"):
        kc.services.create("placement", type="placement", description="Nova Placement")
    users_before = sorted(u.name for u in kc.users.list())
    controller.vars.update(
        {
            "valet_openstack_api_url": emulator.url,
            "valet_openstack_admin_auth_url": keystone.auth_url,
            "valet_site_keystone": True,
            "valet_keystone_auth": keystone.auth_dict(),
            "valet_keystone_region": keystone.region,
            "valet_keystone_password": "valet-test-pw",
            "valet_keystone_api_url": emulator.url,
            "valet_keystone_service_name": "valet-collides",
            "valet_keystone_service_type": "placement",
        }
    )
    before, pkg_before = controller.snapshot(), package_state()
    proc = controller.run()
    msg = assert_stopped_cleanly(
        controller, proc, ["service type 'placement' is already used", "Placement"], before, pkg_before
    )
    assert sorted(u.name for u in kc.users.list()) == users_before
    assert not kc.services.list(name="valet-collides")
    record("keystone-placement", "`valet_keystone_service_type: placement` while Nova's Placement exists", msg)


def render(path=None):
    """docs/bad-input.md from the messages recorded by the last run (last message per case wins)."""
    path = path or os.path.join(REPO, "docs", "bad-input.md")
    rows = {}
    with open(RECORD) as f:
        for line in f:
            row = json.loads(line)
            rows[row["id"]] = row
    lines = [
        "# Wrong inputs and what the playbook says",
        "",
        "Generated by `python tests/playbooks/test_bad_input.py` from what "
        "`tests/playbooks/test_bad_input.py` saw; every case stops `playbooks/site.yml` "
        "before anything changes.",
        "",
        "| input | message |",
        "|---|---|",
    ]
    for row in rows.values():
        msg = row["message"].replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")
        lines.append("| %s | %s |" % (row["input"], msg))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    render(*sys.argv[1:])
