"""The shared valet-api client (what is resent and what not, deadline, errors, token reuse,
no secrets in logs) and valet_os.paths."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from importlib import metadata

import pytest
from valet_api_emulator import ValetApiEmulator

import valet_os
from valet_os import paths
from valet_os.common import client

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCE = os.path.join(REPO, "files", "valet_os")


def hang(emulator):
    """valet-api takes the request and never answers (within any test's patience)."""
    emulator.set_fault("slow", 120)


CALLS = {
    "create_plan": lambda api: api.create_plan({"plan_name": "p", "resources": {}}),
    "update_plan": lambda api: api.update_plan("st", {}),
    "delete_plan": lambda api: api.delete_plan("st"),
    "place": lambda api: api.place("r", ["h1"], "i"),
}


@pytest.mark.parametrize("call", list(CALLS))
def test_hung_valet_api_gets_the_request_once(valet_conf, emulator, call):
    """A read timeout is not a connection failure: what valet-api may have acted on is not resent."""
    valet_conf.set_override("retries", 3, group="valet")
    api = client.ValetClient(valet_conf)
    hang(emulator)
    with pytest.raises(client.ValetUnavailable, match="Read timed out"):
        CALLS[call](api)
    assert len(emulator.requests) == 1


def test_dropped_after_the_request_is_not_resent(valet_conf, emulator):
    """valet-api read the POST, then the connection broke: it may have acted, so no second POST."""
    valet_conf.set_override("retries", 3, group="valet")
    emulator.set_fault("refuse")
    with pytest.raises(client.ValetUnavailable, match="Remote end closed connection"):
        client.ValetClient(valet_conf).create_plan({"plan_name": "p", "resources": {}})
    assert len(emulator.requests) == 1


def test_total_timeout_caps_the_wait_for_a_reply(valet_conf, emulator):
    valet_conf.set_override("read_timeout", 60, group="valet")
    valet_conf.set_override("total_timeout", 1, group="valet")
    api = client.ValetClient(valet_conf)
    api.create_plan({"plan_name": "warm", "resources": {}})  # the token, outside the deadline
    emulator.clear()
    hang(emulator)
    with pytest.raises(client.ValetUnavailable) as exc:
        api.place("r", ["h1"], "i")
    # What the socket was told to wait, as urllib3 reports it: the deadline's rest, not 60 s.
    waited = float(re.search(r"read timeout=([0-9.]+)", str(exc.value)).group(1))
    assert waited <= 1.0
    assert len(emulator.requests) == 1


class ConnectAttempts:
    """Counts the TCP connections urllib3 opens, and can bring valet-api back after the first."""

    def __init__(self, monkeypatch, on_first_failure=None):
        from urllib3.util import connection

        self.count = 0
        real = connection.create_connection

        def counted(*args, **kwargs):
            self.count += 1
            try:
                return real(*args, **kwargs)
            except OSError:
                if self.count == 1 and on_first_failure:
                    on_first_failure()
                raise

        monkeypatch.setattr(connection, "create_connection", counted)


def test_refused_connection_is_retried(valet_conf, emulator, monkeypatch):
    valet_conf.set_override("retries", 2, group="valet")
    api = client.ValetClient(valet_conf)
    api._adapter.get_token()  # Keystone's connection is not the one counted
    emulator.stop()
    attempts = ConnectAttempts(monkeypatch)
    with pytest.raises(client.ValetUnavailable, match="Errno 111"):
        api.create_plan({"plan_name": "p", "resources": {}})
    assert attempts.count == 3


def test_total_timeout_caps_the_connection_attempts(valet_conf, emulator, monkeypatch):
    """No answer to SYN (a host that is down): each attempt gets only what is left of the deadline."""
    valet_conf.set_override("retries", 3, group="valet")
    valet_conf.set_override("total_timeout", 1.5, group="valet")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)  # never accepts; the one connection below fills its backlog
        with socket.create_connection(listener.getsockname(), timeout=1):
            valet_conf.set_override("url", "http://127.0.0.1:%d/v1" % listener.getsockname()[1], group="valet")
            api = client.ValetClient(valet_conf)
            api._adapter.get_token()
            attempts = ConnectAttempts(monkeypatch)
            with pytest.raises(client.ValetUnavailable, match="timed out") as exc:
                api.create_plan({"plan_name": "p", "resources": {}})
    assert attempts.count == 4
    # The last attempt was given the deadline's rest, not connect_timeout (1 s).
    last = float(re.search(r"connect timeout=([0-9.]+)", str(exc.value)).group(1))
    assert last < 0.5


def test_post_reaches_valet_api_once_when_it_comes_back(valet_conf, emulator, monkeypatch):
    api = client.ValetClient(valet_conf)
    api._adapter.get_token()
    emulator.stop()
    back = ValetApiEmulator(port=emulator.port)
    attempts = ConnectAttempts(monkeypatch, on_first_failure=back.start)
    try:
        plan = api.create_plan({"plan_name": "p", "stack_id": "st", "resources": {}})
        assert attempts.count == 2 and plan["stack_id"] == "st"
        assert [(r["method"], r["path"]) for r in back.requests] == [("POST", "/v1/plans")]
    finally:
        back.stop()


def test_error_reply_is_an_answer(valet_conf, emulator):
    emulator.set_fault("error500")
    with pytest.raises(client.ValetAPIError) as exc:
        client.ValetClient(valet_conf).create_plan({"plan_name": "p", "resources": {}})
    assert len(emulator.requests) == 1  # an HTTP error reply is an answer: no retry
    assert exc.value.status == 500 and "injected internal error" in str(exc.value)


def test_401_gets_one_new_token_and_one_resend(valet_conf, emulator, keystone):
    """keystoneauth1's re-authentication: a 401 reply means valet-api did nothing."""
    api = client.ValetClient(valet_conf)
    api._adapter.get_token()
    before = keystone.token_requests()
    emulator.set_fault("unauthorized")
    with pytest.raises(client.ValetAPIError) as exc:
        api.delete_plan("x")
    assert exc.value.status == 401 and "HTTP 401" in str(exc.value)
    assert "401 Unauthorized" in exc.value.explanation  # valet-api's plain-text body
    assert len(emulator.requests) == 2
    assert keystone.token_requests() - before == 1


def test_both_reply_shapes_are_accepted():
    assert client.unwrap({"plan": {"id": 1}}, "plan") == {"id": 1}
    assert client.unwrap({"id": 1, "name": "x"}, "plan") == {"id": 1, "name": "x"}


def test_token_reused_and_secrets_never_logged(valet_conf, emulator, keystone, caplog):
    api = client.ValetClient(valet_conf)
    before = keystone.token_requests()
    with caplog.at_level("DEBUG"):
        for i in range(5):
            api.create_plan({"plan_name": "p%d" % i, "resources": {}})
    assert keystone.token_requests() - before == 1
    token = api._adapter.get_token()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "POST" in text  # keystoneauth1 did log the requests
    assert valet_conf.valet.password not in text and token not in text
    assert all(r["token"] for r in emulator.requests)


def test_bad_password_is_an_auth_error(valet_conf, emulator):
    valet_conf.set_override("password", "wrong", group="valet")
    with pytest.raises(client.ValetAuthError) as exc:
        client.ValetClient(valet_conf).create_plan({"plan_name": "p", "resources": {}})
    assert "wrong" not in str(exc.value)
    assert emulator.requests == []


def test_keystone_down_is_unavailable_not_an_auth_error(valet_conf, emulator):
    valet_conf.set_override("auth_url", "http://127.0.0.1:%d/v3" % free_port(), group="valet")
    with pytest.raises(client.ValetUnavailable, match="Keystone unreachable.*Errno 111"):
        client.ValetClient(valet_conf).create_plan({"plan_name": "p", "resources": {}})
    assert emulator.requests == []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_options_are_documented_for_oslo_config_generator():
    out = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "oslo-config-generator"), "--namespace", "valet_os"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert "[valet]" in out.stdout and "#total_timeout = 10.0" in out.stdout
    assert "missing a help string" not in out.stderr


def _paths(python, env=None):
    out = subprocess.run([python, "-m", "valet_os.paths"], check=True, capture_output=True, text=True, env=env, cwd="/")
    return json.loads(out.stdout)


def test_paths_of_this_install():
    info = _paths(sys.executable)
    assert info["version"] == valet_os.__version__ == metadata.version("valet-openstack")
    assert os.path.isfile(os.path.join(info["heat_plugin_dir"], "GroupAssignment.py"))
    direct = metadata.distribution("valet-openstack").read_text("direct_url.json")
    if direct and json.loads(direct).get("dir_info", {}).get("editable"):
        assert info["heat_plugin_dir"] == os.path.join(SOURCE, "etc", "valet_os", "heat")
        # Found through direct_url.json (PEP 610), not by luck of the layout.
        assert paths._editable_source(metadata.distribution("valet-openstack")) == SOURCE


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """A wheel built from a copy of the source (the tree stays clean), without the network."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(SOURCE, src, ignore=shutil.ignore_patterns("*.egg-info", "build", "__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp), str(src)],
        check=True,
    )
    (whl,) = tmp.glob("valet_openstack-*.whl")
    return whl


def test_paths_in_a_venv(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
    )
    info = _paths(python)
    assert info["heat_plugin_dir"] == str(venv / "etc" / "valet_os" / "heat")
    assert os.path.isfile(os.path.join(info["heat_plugin_dir"], "GroupAssignment.py"))


def test_paths_under_a_prefix_like_debian_usr_local(wheel, tmp_path):
    prefix = tmp_path / "usr" / "local"
    # --ignore-installed: never touch the test venv's own installation.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            "--ignore-installed",
            "--prefix",
            str(prefix),
            str(wheel),
        ],
        check=True,
    )
    (site,) = prefix.glob("lib/python3*/site-packages")
    # Only the prefix install may be seen, not the test venv's own (editable) one.
    env = dict(os.environ, PYTHONPATH=str(site), PYTHONNOUSERSITE="1")
    info = _paths(sys.executable, env=dict(env, PYTHONSAFEPATH="1"))
    if info["heat_plugin_dir"] != str(prefix / "etc" / "valet_os" / "heat"):
        pytest.fail("expected the prefix's etc dir, got %s" % info)
