"""The osa and kolla deployment modes, end to end on this machine, with every path in a tmp dir.

site.yml runs for real (connection local, real Keystone, valet-api emulator) and writes the
deployment tool's files; then the tool's own renderer turns them into nova.conf / heat.conf
(openstack-ansible's config_template action plugin, kolla-ansible's merge_configs), pip installs
the package the way the tool would, and the probe of valet.openstack.valet_verify loads the
result with Heat's and Nova's own code.
"""

import os
import sys

import pytest
from deploy_helpers import KOLLA_BUILD
from deploy_helpers import KOLLA_BUILD_PKGS
from deploy_helpers import OSA_RENDERER
from deploy_helpers import OSA_RENDERER_PKGS
from deploy_helpers import REPO
from deploy_helpers import VALET_PASSWORD
from deploy_helpers import VALET_USER
from deploy_helpers import run
from deploy_helpers import tool_venv
from valet_api_emulator import ValetApiEmulator


@pytest.fixture
def valet_user(keystone):
    """The Valet user of these tests, with their password."""
    keystone.create_service_user(VALET_USER, VALET_PASSWORD, project="service", role="admin")
    return keystone


@pytest.fixture(scope="session")
def emulator():
    emu = ValetApiEmulator().start()
    yield emu
    emu.stop()


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory):
    """The valet-openstack wheel, as a package index would serve it to OSA's venv build."""
    out = tmp_path_factory.mktemp("wheels")
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            os.path.join(REPO, "files", "valet_os"),
        ]
    )
    return out


@pytest.fixture(scope="session")
def osa_renderer():
    """bin/ of a venv with the ansible-core OSA runs and the config_template action plugin."""
    return tool_venv(OSA_RENDERER, OSA_RENDERER_PKGS)


@pytest.fixture(scope="session")
def kolla_build():
    """bin/ of a venv with kolla-build (PyPI kolla), which renders the images' Dockerfiles."""
    return tool_venv(KOLLA_BUILD, KOLLA_BUILD_PKGS)
