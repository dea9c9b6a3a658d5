#!/usr/bin/env bash
# Developer check, not run in CI: tests/deployment/test_osa.py with openstack-ansible's real os_nova and
# os_heat roles in place of the test's stand-in (VALET_OSA_ROLES, see test_osa.py).
#
# Usage: tests/deployment/osa-real-roles.sh OS_NOVA OS_HEAT [PYTEST_ARG...]
#   OS_NOVA, OS_HEAT: a git clone (or bare git dir) of openstack-ansible-os_nova / -os_heat holding the
#   pinned commit below, or an already extracted role directory (used as it is, its commit unchecked).
#   This script downloads nothing; fetch the repositories yourself, e.g.
#     git clone https://opendev.org/openstack/openstack-ansible-os_nova
#     git clone https://opendev.org/openstack/openstack-ansible-os_heat
#   Extra arguments go to pytest (default: -q -p no:cacheprovider). pytest is taken from PATH
#   (the project's venv), or from $PYTEST.
#
# The commits last checked (README "Deployment tools"); override with OS_NOVA_COMMIT / OS_HEAT_COMMIT.
# os_nova: stable/2026.1. os_heat has no stable/2026.1 branch in the checkout used: master's head of
# 2026-04-23, the 2026.1 development line after stable/2025.2 branched.
set -euo pipefail
OS_NOVA_COMMIT=${OS_NOVA_COMMIT:-6195904d207dfa28eb4cd283c26da3cb7c8f8ae3}
OS_HEAT_COMMIT=${OS_HEAT_COMMIT:-4c051376b2acbbfed4de4de507205d3fa652507b}

die() {
    echo "osa-real-roles.sh: $*" >&2
    exit 2
}

[ $# -ge 2 ] || die "usage: $0 OS_NOVA_GIT_OR_ROLE_DIR OS_HEAT_GIT_OR_ROLE_DIR [PYTEST_ARG...]"
nova_src=$1 heat_src=$2
shift 2
repo=$(cd "$(dirname "$0")/../.." && pwd)
roles=$(mktemp -d "${TMPDIR:-/tmp}/valet-osa-roles.XXXXXX")
trap 'rm -rf "$roles"' EXIT

# extract NAME SOURCE COMMIT TEMPLATE: the role tree of NAME into $roles/NAME.
extract() {
    local name=$1 src=$2 commit=$3 template=$4
    [ -d "$src" ] || die "$name: $src is not a directory (a git dir or role dir of openstack-ansible-$name)"
    mkdir "$roles/$name"
    if [ -f "$src/$template" ] && [ -f "$src/defaults/main.yml" ]; then
        echo "$name: role directory $src, used as it is (its commit is not checked against $commit)"
        cp -R "$src/." "$roles/$name/"
    elif git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
        git -C "$src" cat-file -e "$commit^{commit}" 2>/dev/null ||
            die "$name: $src does not hold commit $commit (git -C $src fetch origin, then run again)"
        git -C "$src" archive "$commit" templates defaults vars | tar -x -C "$roles/$name"
        echo "$name: $commit from $src"
    else
        die "$name: $src is neither a git repository nor a role directory with $template"
    fi
    [ -f "$roles/$name/$template" ] || die "$name: no $template in what $src gave"
}

extract os_nova "$nova_src" "$OS_NOVA_COMMIT" templates/nova.conf.j2
extract os_heat "$heat_src" "$OS_HEAT_COMMIT" templates/heat.conf.j2

[ $# -gt 0 ] || set -- -q -p no:cacheprovider
cd "$repo"
# No exec: the EXIT trap removes the extracted roles after pytest.
VALET_OSA_ROLES=$roles "${PYTEST:-pytest}" tests/deployment/test_osa.py "$@"
