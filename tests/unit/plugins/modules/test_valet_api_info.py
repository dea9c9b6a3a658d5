"""valet.openstack.valet_api_info run for real (ansible ad-hoc) against the Keystone fixture and the
valet-api emulator (tools/valet_api_emulator.py)."""

import socket
import ssl
import subprocess
import threading
import uuid

import pytest
from ansible_env import run_ad_hoc
from valet_api_emulator import Handler
from valet_api_emulator import ValetApiEmulator
from valet_api_emulator import _Server


def run_module(args, collections_root, check=False):
    """Run the module through ansible; return (result dict, raw stdout+stderr)."""
    return run_ad_hoc("valet.openstack.valet_api_info", args, collections_root, ["--check"] if check else [])


def closed_port():
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def emulator():
    emu = ValetApiEmulator().start()
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def valet_user(keystone, kc):
    """A Valet user of its own, with a role on the `service` project."""
    name, password = "valet-info-%s" % uuid.uuid4().hex[:8], "pw-%s-secret" % uuid.uuid4().hex[:8]
    keystone.create_service_user(name, password, project="service", role="admin")
    return name, password


@pytest.fixture
def args(keystone, emulator, valet_user):
    return {
        "api_url": emulator.url,
        "auth_url": keystone.auth_url,
        "username": valet_user[0],
        "password": valet_user[1],
        "project_name": "service",
        "timeout": 10,
    }


@pytest.mark.parametrize("check", [False, True], ids=["run", "check_mode"])
def test_all_three_answer(args, emulator, collections_root, check):
    result, raw = run_module(args, collections_root, check=check)
    assert not result.get("failed") and not result["changed"], raw
    assert result["versions"]["ok"] and result["versions"]["status"] in (200, 300)
    assert result["versions"]["url"] == emulator.url.rsplit("/", 1)[0] + "/"
    assert result["token"]["ok"] and result["token"]["status"] == 201
    assert result["token"]["url"] == args["auth_url"].rstrip("/") + "/auth/tokens"
    assert result["api_status"]["ok"] and result["api_status"]["status"] in (200, 204)
    # valet-api's own report comes back as it said it (the emulator's here)
    assert result["api_status"]["report"]["valet-api"] == "ok"
    # the status request carried the token (the emulator answers 401 without one)
    assert [r["token"] for r in emulator.requests if r["path"].endswith("/status")] == [True]
    assert args["password"] not in raw


def test_wrong_password(args, emulator, collections_root):
    args["password"] = "a-wrong-password-%s" % uuid.uuid4().hex[:6]
    result, raw = run_module(args, collections_root)
    assert not result.get("failed"), raw  # the caller decides
    assert result["versions"]["ok"]
    assert not result["token"]["ok"] and result["token"]["status"] == 401, result["token"]
    assert "401" in result["token"]["msg"]
    # no token, no status request
    assert result["api_status"] is None
    assert not [r for r in emulator.requests if r["path"].endswith("/status")]
    assert args["password"] not in raw


def test_valet_api_down(args, collections_root):
    port = closed_port()
    args["api_url"] = "http://127.0.0.1:%d/v1" % port
    result, raw = run_module(args, collections_root)
    assert not result.get("failed"), raw
    assert not result["versions"]["ok"] and result["versions"]["status"] == -1
    assert result["versions"]["url"] == "http://127.0.0.1:%d/" % port
    assert "refused" in result["versions"]["msg"].lower(), result["versions"]
    # Keystone is still asked (a second reason to report), the status request is not
    assert result["token"]["ok"]
    assert result["api_status"] is None
    assert args["password"] not in raw


def test_keystone_down(args, collections_root):
    args["auth_url"] = "http://127.0.0.1:%d/v3" % closed_port()
    result, raw = run_module(args, collections_root)
    assert not result.get("failed"), raw
    assert result["versions"]["ok"]
    assert not result["token"]["ok"] and result["token"]["status"] == -1
    assert result["api_status"] is None
    assert args["password"] not in raw


def test_status_refused_with_a_token(args, emulator, collections_root):
    emulator.set_fault("unauthorized")
    result, raw = run_module(args, collections_root)
    assert not result.get("failed"), raw
    assert result["token"]["ok"]
    assert not result["api_status"]["ok"] and result["api_status"]["status"] == 401, result["api_status"]
    assert args["password"] not in raw


def test_without_a_password_only_the_root(emulator, collections_root):
    result, raw = run_module({"api_url": emulator.url}, collections_root)
    assert not result.get("failed"), raw
    assert result["versions"]["ok"]
    assert result["token"] is None and result["api_status"] is None
    assert [r["path"] for r in emulator.requests] == ["/"]


def test_not_a_url(collections_root):
    result, raw = run_module({"api_url": "valet-api:8090/v1"}, collections_root)
    assert not result.get("failed"), raw
    assert not result["versions"]["ok"] and "http" in result["versions"]["msg"], result["versions"]


def _private_ca(tmp_path):
    """A CA of our own and a certificate it signed for 127.0.0.1: (ca.pem, server.pem, server.key)."""

    def openssl(*argv):
        subprocess.run(["openssl", *argv], cwd=tmp_path, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=ca")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=x")
    (tmp_path / "ext.cnf").write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nauthorityKeyIdentifier=keyid\n"
        "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
    )
    openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-days", "1",
        "-extfile", "ext.cnf", "-out", "server.pem",
    )  # fmt: skip
    return tmp_path / "ca.pem", tmp_path / "server.pem", tmp_path / "server.key"


@pytest.fixture
def tls_emulator(tmp_path):
    """The emulator's handler behind TLS, with a certificate of a private CA: (https url, ca.pem)."""
    ca, cert, key = _private_ca(tmp_path)
    emu = ValetApiEmulator()
    server = _Server(("127.0.0.1", 0), Handler)
    server.emulator = emu
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "https://127.0.0.1:%d/v1" % server.server_address[1], str(ca)
    server.shutdown()
    server.server_close()


def test_private_ca_through_ca_path(tls_emulator, collections_root):
    """The preflight verifies valet-api with the CA bundle the plugins get ([valet] cafile), not only
    with the system's trust store (issue 24.7)."""
    url, ca = tls_emulator
    result, raw = run_module({"api_url": url}, collections_root)
    assert not result["versions"]["ok"] and "certificate" in result["versions"]["msg"].lower(), result["versions"]
    result, raw = run_module({"api_url": url, "ca_path": ca}, collections_root)
    assert result["versions"]["ok"], result["versions"]
