"""valet-api as pip installs it: entry points for the config and policy generators, valet-manage, migrations."""

import os
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = os.path.join(REPO, "files", "valet_api")
BIN = os.path.dirname(sys.executable)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    # From a copy: setuptools builds in the source directory, which stays as git has it.
    source = tmp_path_factory.mktemp("src") / "valet_api"
    shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index"]
        + ["-t", str(target), str(source)],
        check=True,
        capture_output=True,
    )
    return target


def _run(installed, *command, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(installed))
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True, cwd=cwd).stdout


def test_the_sample_config_documents_every_group(installed, tmp_path):
    sample = tmp_path / "valet.conf.sample"
    _run(
        installed,
        os.path.join(BIN, "oslo-config-generator"),
        "--config-file",
        "etc/valet/valet-config-generator.conf",
        "--output-file",
        str(sample),
        cwd=PACKAGE,
    )
    text = sample.read_text()
    for section in ("[api]", "[database]", "[keystone_authtoken]", "[cloud]", "[placement]", "[nova]", "[engine]"):
        assert section in text
    assert "#connection = sqlite:////var/lib/valet/valet.sqlite" in text
    assert "#auth_strategy = keystone" in text and "#rack_aggregate_key = valet_rack" in text


def test_the_policy_sample_lists_the_rules(installed, tmp_path):
    out = tmp_path / "policy.yaml"
    _run(
        installed,
        os.path.join(BIN, "oslopolicy-sample-generator"),
        "--namespace",
        "valet_api",
        "--output-file",
        str(out),
    )
    text = out.read_text()
    assert '#"admin_or_service": "role:service or role:admin"' in text
    assert '#"valet:plans:create": "rule:admin_or_service"' in text


def test_valet_manage_and_the_migrations_are_installed(installed, tmp_path):
    conf = tmp_path / "valet.conf"
    conf.write_text("[database]\nconnection = sqlite:///%s\n" % (tmp_path / "v.sqlite"))
    out = _run(
        installed,
        sys.executable,
        str(installed / "bin" / "valet-manage"),
        "--config-file",
        str(conf),
        "db",
        "sync",
        cwd=str(tmp_path),
    )
    assert "revision 0001" in out


def test_gunicorn_serves_the_module_level_application_from_the_config_file(installed, tmp_path):
    """valet_api.wsgi:application, configured by VALET_API_CONFIG_FILE; no cloud configured: degraded."""
    import json
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = "sqlite:///%s" % (tmp_path / "v.sqlite")
    conf = tmp_path / "valet.conf"
    conf.write_text("[api]\nauth_strategy = noauth2\n[database]\nconnection = %s\n" % url)
    _run(installed, sys.executable, str(installed / "bin" / "valet-manage"), "--config-file", str(conf), "db", "sync")
    env = dict(os.environ, PYTHONPATH=str(installed), VALET_API_CONFIG_FILE=str(conf))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-b",
            "127.0.0.1:%d" % port,
            "--control-socket",
            str(tmp_path / "g.ctl"),
            "valet_api.wsgi:application",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                req = urllib.request.Request("http://127.0.0.1:%d/v1/status" % port, headers={"X-Auth-Token": "u:p"})
                with urllib.request.urlopen(req, timeout=10) as resp:
                    status = json.load(resp)["status"]
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "gunicorn did not serve"
                time.sleep(0.3)
        assert status["database"] == "ok" and status["plans"] == 0
        assert status["valet-api"] == "degraded"  # [cloud] has no credentials here
    finally:
        proc.terminate()
        proc.wait(30)
