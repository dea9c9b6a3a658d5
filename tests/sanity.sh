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
# ansible-test bootstraps pip in its venvs with a script from a host only CI of Ansible reaches.
pip_ver=$(grep -oP "pip='\K[0-9.]+" "$(python3 -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py")
cache=$HOME/.ansible/test/cache/get_pip_${pip_ver//./_}.py
[ -f "$cache" ] || install -D -m 0644 "$repo/tests/sanity-get-pip.py" "$cache"
py=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# --venv: each test gets the tool versions ansible-test pins (pylint, pycodestyle, ...), from PyPI.
ansible-test sanity --venv --python "$py" --color no "$@" plugins/
