"""Fixtures for the valet_os plugin tests: emulator, Valet service user, Heat and Nova loaded side by side.

The package must be installed into the test venv first:

    .venv/bin/pip install -e files/valet_os      (`make venv` does it)
"""

from importlib import metadata

import pytest
from oslo_config import cfg
from valet_api_emulator import ValetApiEmulator
from valet_sides import heat_dummy_db
from valet_sides import load_heat

try:
    metadata.distribution("valet-openstack")
except metadata.PackageNotFoundError:  # pragma: no cover - a setup error, said plainly
    pytest.exit(
        "valet-openstack is not installed in this Python: run "
        "`<venv>/bin/pip install -e files/valet_os` (make venv does it)",
        returncode=4,
    )

VALET_PASSWORD = "valet-service-pw"


@pytest.fixture(scope="session")
def valet_user(keystone):
    """The Valet service user in Keystone, as [valet] options (keystoneauth1's names)."""
    keystone.create_service_user("valet", VALET_PASSWORD, project="service", role="admin")
    return {
        "username": "valet",
        "password": VALET_PASSWORD,
        "project_name": "service",
        "auth_url": keystone.auth_url,
    }


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
    """[valet] pointing at the emulator with the real Keystone; short timeouts.

    read_timeout also bounds Keystone's token reply, which a busy test machine can delay past 1 s.
    """
    for name, value in dict(
        valet_user, url=emulator.url, connect_timeout=1, read_timeout=2, retries=1, failure_mode="reject"
    ).items():
        conf.set_override(name, value, group="valet")
    return conf


@pytest.fixture
def heat(conf):
    """Heat with plugin_dirs = the installed GroupAssignment's directory, a fresh DB and registry.

    Yields heat.tests.utils. Stacks made with make_stack are legacy-engine stacks unless
    created with convergence=True (Heat's service decides that per stack, not the config).
    """
    load_heat()
    from heat.common import lifecycle_plugin_utils
    from heat.common import messaging
    from heat.engine import resources
    from heat.tests import utils

    from valet_os import paths
    from valet_os.heat import convergence

    messaging.setup("fake://", optional=True)  # Heat sends stack notifications on state changes
    conf.set_override("plugin_dirs", [paths.heat_plugin_dir()])
    conf.set_override("stack_scheduler_hints", True)
    conf.set_override("deferred_auth_method", "password")  # no trusts: no Heat Keystone needed
    heat_dummy_db(conf)
    # Heat caches its global environment and plugin instances: rebuild them with our config.
    resources._environment = None
    lifecycle_plugin_utils.pp_class_instances = None
    convergence.PLANNER = None
    resources.initialise()
    yield utils
    utils.reset_dummy_db()
    resources._environment = None
    lifecycle_plugin_utils.pp_class_instances = None
    convergence.PLANNER = None
