"""[valet] login and TLS are keystoneauth1's own options; 1.0's names still work, deprecated.

The TLS test puts valet-api (the emulator) and Keystone behind TLS with a CA made here:
the client gets through with [valet] cafile and not without it, for both.
"""

import datetime
import ipaddress
import os
import re
import socket
import ssl
import subprocess
import sys
import threading

import pytest
import yaml
from oslo_config import cfg

from valet_os.common import client
from valet_os.common import config

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLE = os.path.join(REPO, "roles", "valet_openstack")


def conf_from_file(tmp_path, text):
    """A fresh ConfigOpts that read `text` as its config file, as a service reads nova.conf."""
    path = tmp_path / "service.conf"
    path.write_text(text)
    conf = cfg.ConfigOpts()
    config.register_opts(conf)
    conf(["--config-file", str(path)], default_config_files=[])
    return conf


def test_a_release_1_0_file_keeps_working_with_a_deprecation_warning(tmp_path, emulator, valet_user, caplog):
    conf = conf_from_file(
        tmp_path,
        "[valet]\nurl = %s\nadmin_tenant_name = service\nadmin_username = valet\nadmin_password = %s\n"
        "admin_auth_url = %s\nadmin_user_domain_name = Default\nadmin_project_domain_name = Default\n"
        % (emulator.url, valet_user["password"], valet_user["auth_url"]),
    )
    with caplog.at_level("WARNING"):
        plan = client.ValetClient(conf).create_plan({"plan_name": "p", "stack_id": "st", "resources": {}})
    assert plan["stack_id"] == "st" and emulator.requests[-1]["token"] is True
    warned = " ".join(r.getMessage() for r in caplog.records)
    for old, new in config.LEGACY_AUTH_NAMES.items():
        # oslo.config names keystoneauth1's options as keystoneauth1 does: auth-url for auth_url.
        expected = 'Option "%s" from group "valet" is deprecated. Use option "%s"' % (old, new.replace("_", "-"))
        assert expected in warned, (expected, warned)
    assert valet_user["password"] not in warned


def test_new_names_win_over_old_ones(tmp_path, emulator, valet_user):
    conf = conf_from_file(
        tmp_path,
        "[valet]\nurl = %s\nauth_type = password\nauth_url = %s\nusername = valet\npassword = %s\n"
        "project_name = service\nadmin_password = stale-1.0-password\n"
        % (emulator.url, valet_user["auth_url"], valet_user["password"]),
    )
    client.ValetClient(conf).create_plan({"plan_name": "p", "resources": {}})
    assert emulator.requests[-1]["token"] is True


def test_application_credential(tmp_path, emulator, valet_user, keystone):
    from keystoneauth1 import session
    from keystoneauth1.identity import v3
    from keystoneclient.v3 import client as ks_client

    auth = v3.Password(
        auth_url=keystone.auth_url,
        username="valet",
        password=valet_user["password"],
        project_name="service",
        user_domain_name="Default",
        project_domain_name="Default",
    )
    own = session.Session(auth=auth)
    cred = ks_client.Client(session=own).application_credentials.create(
        "valet-%s" % os.getpid(), user=own.get_user_id(), secret="app-cred-secret"
    )
    conf = conf_from_file(
        tmp_path,
        "[valet]\nurl = %s\nauth_type = v3applicationcredential\nauth_url = %s\n"
        "application_credential_id = %s\napplication_credential_secret = app-cred-secret\n"
        % (emulator.url, keystone.auth_url, cred.id),
    )
    client.ValetClient(conf).create_plan({"plan_name": "p", "resources": {}})
    assert emulator.requests[-1]["token"] is True


def test_options_listed_for_oslo_config_generator():
    out = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "oslo-config-generator"), "--namespace", "valet_os"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for name in ("auth_type", "auth_url", "username", "password", "project_name", "user_domain_name", "cafile"):
        assert re.search(r"^#%s = " % name, out, re.M), name
    assert "#auth_type = password" in out
    assert re.search(r"# Deprecated group/name - \[valet\]/admin_username", out)


# -- role and plugin agree on every bound ---------------------------------------------------


def role_bounds():
    """{option: (operator, number)} as roles/valet_openstack/tasks/validate.yml checks them."""
    with open(os.path.join(ROLE, "tasks", "validate.yml")) as f:
        tasks = yaml.safe_load(f)
    rows = next(t["loop"] for t in tasks if "ansible.builtin.assert" in t and "loop" in t)
    found = {}
    for row in rows:
        m = re.search(r"valet_openstack_(\w+) \| (?:float|int) (>=?) ([0-9.]+)", row.get("ok", ""))
        if m:
            found[m.group(1)] = (m.group(2), float(m.group(3)))
    return found


@pytest.mark.parametrize("option", ["connect_timeout", "read_timeout", "total_timeout", "retries"])
def test_role_and_plugin_bounds_agree(option):
    """Whatever the role lets through, the plugin accepts (and the other way round but for
    the bound itself, which oslo.config can only include)."""
    op, bound = role_bounds()[option]
    (opt,) = [o for o in config.OPTS if o.dest == option]
    assert float(opt.type.min) == bound, (option, op, bound, opt.type.min)


# -- TLS with a private CA -------------------------------------------------------------------


def make_ca_and_cert(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def build(subject, issuer, key, signer, ca):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = build("test private CA", "test private CA", ca_key, ca_key, True)
    cert = build("127.0.0.1", "test private CA", key, ca_key, False)
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(pem))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(pem))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"))
    return str(tmp_path / "ca.pem"), context


class TLSFront:
    """TLS in front of a plain HTTP port (as haproxy in front of Keystone)."""

    def __init__(self, context, port):
        self.context, self.backend = context, port
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
        except (OSError, ssl.SSLError):
            conn.close()
            return
        back = socket.create_connection(("127.0.0.1", self.backend))

        def pump(src, dst):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        threading.Thread(target=pump, args=(back, tls), daemon=True).start()
        pump(tls, back)

    def close(self):
        self.sock.close()


@pytest.fixture
def behind_tls(tmp_path, emulator, keystone, valet_conf):
    """valet_conf with valet-api and Keystone both reached over TLS signed by a private CA."""
    cafile, context = make_ca_and_cert(tmp_path)
    fronts = [TLSFront(context, emulator.port), TLSFront(context, keystone.port)]
    valet_conf.set_override("url", "https://127.0.0.1:%d/v1" % fronts[0].port, group="valet")
    # v3password: no version discovery, whose links Keystone (behind the proxy) writes as http.
    valet_conf.set_override("auth_type", "v3password", group="valet")
    valet_conf.set_override("user_domain_name", "Default", group="valet")
    valet_conf.set_override("auth_url", "https://127.0.0.1:%d/v3" % fronts[1].port, group="valet")
    yield valet_conf, cafile, fronts
    for front in fronts:
        front.close()


def test_private_ca_with_cafile(behind_tls, emulator):
    conf, cafile, _ = behind_tls
    conf.set_override("cafile", cafile, group="valet")
    plan = client.ValetClient(conf).create_plan({"plan_name": "p", "stack_id": "tls", "resources": {}})
    assert plan["stack_id"] == "tls" and emulator.requests[-1]["token"] is True


def test_private_ca_without_cafile_fails_at_keystone(behind_tls, emulator):
    conf, _, _ = behind_tls
    with pytest.raises(client.ValetUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
        client.ValetClient(conf).create_plan({"plan_name": "p", "resources": {}})
    assert emulator.requests == []


def test_private_ca_without_cafile_fails_at_valet_api(behind_tls, emulator, keystone):
    """Keystone reached in the clear, valet-api over TLS: valet-api's certificate is checked too."""
    conf, _, _ = behind_tls
    conf.set_override("auth_url", keystone.auth_url, group="valet")
    with pytest.raises(client.ValetUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
        client.ValetClient(conf).create_plan({"plan_name": "p", "resources": {}})
    assert emulator.requests == []
