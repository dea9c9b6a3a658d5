#!/usr/bin/env bash
# ansible-test sanity over the whole collection, and ansible-lint, on the ansible-core minors that
# meta/runtime.yml claims (requires_ansible >=2.19.0,<2.22.0: 2.19, 2.20, 2.21).
#   tests/sanity.sh                    all of them
#   tests/sanity.sh 2.19|2.20|2.21     one of them (oldest = 2.19, newest = 2.21); further arguments go
#                                      to ansible-test sanity
# 2.19: the ansible-core of .venv (what `ansible>=10` pins). 2.20 and 2.21: a venv each under
# tests/output/core-<minor>, made once, from a Python >= 3.12 (their floor for the controller):
# $VALET_NEWER_PYTHON or the first python3.13 / python3.12 on PATH. The modules' compile and import
# tests run on every Python the modules support (tests/config.yml: >= 3.9); a missing interpreter
# fails the run rather than being skipped. Run as `all`, the minor in between (2.20) has the sanity
# tests on its controller Python only, and ansible-lint runs with 2.21 here (2.19's is `make lint`).
# Exceptions are in tests/sanity/ignore-2.X.txt, one justification per line.
# ansible-test must run from a real ansible_collections/<ns>/<name> tree (it resolves symlinks), so
# the collection is copied there first, outside this git work tree (inside it, ansible-test would
# ask git for the file list and find the copy ignored).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
CORES=(2.19 2.20 2.21)
which=${1:-all}
case $which in
    oldest) which=${CORES[0]}; shift ;;
    newest) which=${CORES[-1]}; shift ;;
    all|2.*) shift || true ;;
    *) which=all ;;
esac
MODULE_PYTHONS=${VALET_MODULE_PYTHONS:-3.9 3.10 3.11 3.12 3.13}

# pyenv's shims run a version only when it is selected, and ansible-test does not pass
# PYENV_VERSION on: put the real bin/ of every installed version on PATH instead.
if command -v pyenv >/dev/null; then
    for v in $(pyenv versions --bare | grep -E '^[0-9]+\.[0-9]+\.[0-9]+$'); do
        PATH=$PATH:$(pyenv root)/versions/$v/bin
    done
    PATH=$(echo "$PATH" | tr ':' '\n' | grep -v '/shims$' | paste -sd: -)
    export PATH
fi

# ansible-test skips its shellcheck test when the program is missing: make that an error.
command -v shellcheck >/dev/null || { echo "sanity: shellcheck is missing (Debian: apt-get install shellcheck; make deps)" >&2; exit 1; }

venv_bin() {  # venv_bin MINOR: the bin/ of a venv with that ansible-core, made once
    local minor=$1 venv=$repo/tests/output/core-$1 py=${VALET_NEWER_PYTHON:-}
    local core="ansible-core>=$minor,<${minor%.*}.$((${minor#*.} + 1))"
    if [ -z "$py" ]; then
        for candidate in python3.13 python3.12; do
            if command -v "$candidate" >/dev/null && "$candidate" -c '' 2>/dev/null; then py=$candidate; break; fi
        done
    fi
    if [ -z "$py" ]; then
        echo "sanity: $core needs a Python >= 3.12 for the controller and none was found" \
             "(python3.13 / python3.12 on PATH, or VALET_NEWER_PYTHON)." >&2
        return 1
    fi
    if [ ! -x "$venv/bin/ansible-test" ] || [ "$(cat "$venv/.core" 2>/dev/null)" != "$core" ]; then
        rm -rf "$venv"
        "$py" -m venv "$venv" >&2
        "$venv/bin/pip" install -q --disable-pip-version-check "$core" ansible-lint >&2
        echo "$core" >"$venv/.core"
    fi
    echo "$venv/bin"
}

run_one() {  # run_one BIN_DIR LABEL WHAT ARGS...: WHAT is "full", or "controller" for the sanity tests on
    # the controller Python alone (no per-Python compile/import, no ansible-lint)
    local bin=$1 label=$2 what=$3; shift 3
    # A fresh directory per run: two checkouts (or CI and a developer) may run sanity at once.
    local top
    top=$(mktemp -d "${TMPDIR:-/tmp}/valet-openstack-sanity-$label.XXXXXX")
    local dest=$top/ansible_collections/valet/openstack
    mkdir -p "$dest"
    tar -C "$repo" --exclude=./.venv --exclude=./.collections --exclude=./.git --exclude=./.cache \
        --exclude=./.ansible --exclude=./tests/output --exclude=./dist \
        --exclude=__pycache__ --exclude='*.egg-info' -cf - . | tar -C "$dest" -xf -
    local py core
    py=$("$bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    core=$("$bin/python" -c 'import ansible; print(ansible.__version__)')
    echo "== sanity, ansible-core $core, controller Python $py"
    # ansible-test bootstraps pip in its venvs with a script from a host only CI of Ansible reaches.
    local pip_ver cache
    pip_ver=$(grep -oP "pip='\K[0-9.]+" "$("$bin/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py")
    cache=$HOME/.ansible/test/cache/get_pip_${pip_ver//./_}.py
    [ -f "$cache" ] || install -D -m 0644 "$repo/tests/sanity-get-pip.py" "$cache"
    # Every test, whole collection, on the controller Python; --venv: the tool versions ansible-test
    # pins (pylint, pycodestyle, ...), from PyPI.
    (cd "$dest" && PATH=$bin:$PATH "$bin/ansible-test" sanity --venv --python "$py" --color no "$@")
    [ "$what" = full ] || { rm -rf "$top"; return 0; }
    # compile and import on each Python the modules run with on the Heat / Nova hosts.
    local v missing=()
    for v in $MODULE_PYTHONS; do
        [ "$v" = "$py" ] && continue
        if ! command -v "python$v" >/dev/null || ! "python$v" -c '' 2>/dev/null; then missing+=("$v"); continue; fi
        (cd "$dest" && PATH=$bin:$PATH "$bin/ansible-test" sanity --venv --python "$v" --color no \
            --test compile --test import "$@")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "sanity: no interpreter for module Python ${missing[*]} (VALET_MODULE_PYTHONS='$MODULE_PYTHONS')" >&2
        return 1
    fi
    # The venv's own ansible-core has its ansible-lint run in `make lint`.
    if [ "$bin" != "$(dirname "$(command -v ansible-test)")" ]; then
        echo "== ansible-lint --profile production, ansible-core $core"
        (cd "$repo" && PATH=$bin:$PATH "$bin/ansible-lint" --profile production)
    fi
    rm -rf "$top"  # kept when a step failed, to look at
}

for minor in "${CORES[@]}"; do
    [ "$which" = all ] || [ "$which" = "$minor" ] || continue
    if [ "$minor" = "${CORES[0]}" ]; then
        bin=$(dirname "$(command -v ansible-test)")
    else
        bin=$(venv_bin "$minor")
    fi
    got=$("$bin/python" -c 'import ansible; print(ansible.__version__)')
    case $got in "$minor".*) ;; *) echo "sanity: $bin has ansible-core $got, not $minor" >&2; exit 1 ;; esac
    # The oldest and the newest minor get everything; one in between, the sanity tests on its
    # controller Python (what differs between minors is ansible-test's own checks, not the Pythons).
    what=controller
    [ "$minor" = "${CORES[0]}" ] || [ "$minor" = "${CORES[-1]}" ] || [ "$which" != all ] && what=full
    run_one "$bin" "$minor" "$what" "$@"
done
