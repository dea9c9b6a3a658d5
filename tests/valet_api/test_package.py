"""valet-api as pip installs it: entry points for the config and policy generators, valet-manage, migrations."""

import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = os.path.join(REPO, "files", "valet_api")
BIN = os.path.dirname(sys.executable)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-t",
            str(target),
            PACKAGE,
        ],
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
