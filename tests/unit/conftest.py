"""Make `ansible_collections.valet.openstack` importable for the unit tests.

`make collection-link` creates .collections/ansible_collections/valet/openstack -> repo root; when it is
missing (fresh checkout) an equivalent link is made in a temporary directory instead of touching the tree.
"""

import os
import sys
import tempfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _collections_root():
    in_tree = os.path.join(REPO, '.collections')
    if os.path.isfile(os.path.join(in_tree, 'ansible_collections', 'valet', 'openstack', 'galaxy.yml')):
        return in_tree
    root = tempfile.mkdtemp(prefix='valet_collections_')
    os.makedirs(os.path.join(root, 'ansible_collections', 'valet'))
    os.symlink(REPO, os.path.join(root, 'ansible_collections', 'valet', 'openstack'))
    return root


COLLECTIONS_ROOT = _collections_root()
if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)


@pytest.fixture(scope='session')
def collections_root():
    return COLLECTIONS_ROOT


@pytest.fixture(scope='session')
def repo_root():
    return REPO
