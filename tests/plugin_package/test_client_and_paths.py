"""The shared valet-api client (retries, errors, token reuse, no secrets in logs) and valet_os.paths."""

import json
import os
import shutil
import subprocess
import sys
from importlib import metadata

import pytest

import valet_os
from valet_os import paths
from valet_os.common import client

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCE = os.path.join(REPO, "files", "valet_os")


def test_retries_only_on_connection_errors(valet_conf, emulator):
    valet_conf.set_override("retries", 2, group="valet")
    api = client.ValetClient(valet_conf)
    emulator.set_fault("refuse")
    with pytest.raises(client.ValetUnavailable, match="3 attempt"):
        api.create_plan({"plan_name": "p", "resources": {}})
    assert len(emulator.requests) == 3
    emulator.clear()
    emulator.set_fault("error500")
    with pytest.raises(client.ValetAPIError) as exc:
        api.create_plan({"plan_name": "p", "resources": {}})
    assert len(emulator.requests) == 1  # an HTTP error reply is an answer: no retry
    assert exc.value.status == 500 and "injected internal error" in str(exc.value)


def test_plain_text_401_becomes_a_clear_error(valet_conf, emulator):
    emulator.set_fault("unauthorized")
    with pytest.raises(client.ValetAPIError) as exc:
        client.ValetClient(valet_conf).delete_plan("x")
    assert exc.value.status == 401 and "HTTP 401" in str(exc.value)
    assert "401 Unauthorized" in exc.value.explanation


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
    token = api._keystone.get_token()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert valet_conf.valet.admin_password not in text and token not in text
    assert all(r["token"] for r in emulator.requests)


def test_bad_password_is_an_auth_error(valet_conf, emulator):
    valet_conf.set_override("admin_password", "wrong", group="valet")
    with pytest.raises(client.ValetAuthError) as exc:
        client.ValetClient(valet_conf).create_plan({"plan_name": "p", "resources": {}})
    assert "wrong" not in str(exc.value)
    assert emulator.requests == []


def _paths(python, env=None):
    out = subprocess.run([python, "-m", "valet_os.paths"], check=True, capture_output=True,
                         text=True, env=env, cwd="/")
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
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp), str(src)], check=True)
    (whl,) = tmp.glob("valet_openstack-*.whl")
    return whl


def test_paths_in_a_venv(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps",
                    "--no-index", str(wheel)], check=True)
    info = _paths(python)
    assert info["heat_plugin_dir"] == str(venv / "etc" / "valet_os" / "heat")
    assert os.path.isfile(os.path.join(info["heat_plugin_dir"], "GroupAssignment.py"))


def test_paths_under_a_prefix_like_debian_usr_local(wheel, tmp_path):
    prefix = tmp_path / "usr" / "local"
    # --ignore-installed: never touch the test venv's own installation.
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--ignore-installed",
                    "--prefix", str(prefix), str(wheel)], check=True)
    (site,) = prefix.glob("lib/python3*/site-packages")
    # Only the prefix install may be seen, not the test venv's own (editable) one.
    env = dict(os.environ, PYTHONPATH=str(site), PYTHONNOUSERSITE="1")
    info = _paths(sys.executable, env=dict(env, PYTHONSAFEPATH="1"))
    if info["heat_plugin_dir"] != str(prefix / "etc" / "valet_os" / "heat"):
        pytest.fail("expected the prefix's etc dir, got %s" % info)
