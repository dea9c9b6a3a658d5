"""Fixtures for the valet_os plugin tests: emulator, Valet service user, Heat and Nova loaded side by side.

The package must be installed into the test venv first:

    .venv/bin/pip install -e files/valet_os      (`make venv` does it)
"""

from importlib import metadata

import pytest
from oslo_config import cfg

from valet_api_emulator import ValetApiEmulator


try:
    metadata.distribution("valet-openstack")
except metadata.PackageNotFoundError:  # pragma: no cover - a setup error, said plainly
    pytest.exit("valet-openstack is not installed in this Python: run "
                "`<venv>/bin/pip install -e files/valet_os` (make venv does it)", returncode=4)

VALET_PASSWORD = "valet-service-pw"


@pytest.fixture(scope="session")
def valet_user(keystone):
    """The Valet service user in Keystone: (username, password, project)."""
    keystone.create_service_user("valet", VALET_PASSWORD, project="service", role="admin")
    return {"admin_username": "valet", "admin_password": VALET_PASSWORD,
            "admin_tenant_name": "service", "admin_auth_url": keystone.auth_url}


@pytest.fixture
def emulator():
    emu = ValetApiEmulator().start()
    yield emu
    emu.stop()


@pytest.fixture
def conf():
    """The global CONF, clean before and after the test (Heat and Nova share it)."""
    from valet_os.common import config
    config.register_opts(cfg.CONF)
    cfg.CONF.reset()
    yield cfg.CONF
    cfg.CONF.reset()


@pytest.fixture
def valet_conf(conf, emulator, valet_user):
    """[valet] pointing at the emulator with the real Keystone; short timeouts."""
    for name, value in dict(valet_user, url=emulator.url, connect_timeout=1, read_timeout=1,
                            retries=1, failure_mode="reject").items():
        conf.set_override(name, value, group="valet")
    return conf
