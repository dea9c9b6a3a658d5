#!/usr/bin/env bash
# ansible-test must run from a real ansible_collections/<ns>/<name> tree (it resolves symlinks), so
# the collection is copied there first, outside this git work tree (inside it, ansible-test would
# ask git for the file list and find the copy ignored). Runs every sanity test on plugins/.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
top=${TMPDIR:-/tmp}/valet-openstack-sanity
dest=$top/ansible_collections/valet/openstack
rm -rf "$top"
mkdir -p "$dest"
tar -C "$repo" --exclude=./.venv --exclude=./.collections --exclude=./.git --exclude=./.cache \
    --exclude=__pycache__ --exclude='*.egg-info' -cf - . | tar -C "$dest" -xf -
cd "$dest"
py=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# --venv: each test gets the tool versions ansible-test pins (pylint, pycodestyle, ...), from PyPI.
ansible-test sanity --venv --python "$py" --color no "$@" plugins/
