"""The built artifact, installed into a tmp dir that is the only collection path Ansible sees."""

import os

import pytest
from collection_helpers import BIN
from collection_helpers import REPO
from collection_helpers import run


@pytest.fixture(scope="session")
def installed(tmp_path_factory):
    """(artifact listing, installed collection dir, env that sees only the installed copy)."""
    tmp = tmp_path_factory.mktemp("artifact")
    run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(tmp), str(REPO)])
    artifacts = list(tmp.glob("valet-openstack-*.tar.gz"))
    assert len(artifacts) == 1
    listing = [name for name in run(["tar", "-tzf", str(artifacts[0])]).stdout.split() if not name.endswith("/")]
    dest = tmp / "installed"
    # An environment that knows only the installed artifact (not this tree's ansible.cfg).
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(dest),
        ANSIBLE_CONFIG=str(tmp / "none.cfg"),
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_STDOUT_CALLBACK="json",
        ANSIBLE_NOCOLOR="1",
    )
    run([str(BIN / "ansible-galaxy"), "collection", "install", "-p", str(dest), str(artifacts[0])], env=env, cwd=tmp)
    return listing, dest / "ansible_collections" / "valet" / "openstack", env, tmp
