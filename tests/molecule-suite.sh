#!/usr/bin/env bash
# Every molecule scenario, step by step, with wall times; then a grep of the whole output for the
# test passwords (they must never be printed). Usage: tests/molecule-suite.sh [SCENARIO...]
# Scenarios run in two lanes at once (VALET_MOLECULE_LANES=1 for one): most of a scenario's wall
# time is services starting and settling, not CPU.
# SCENARIO@RELEASE runs a scenario on another test-host release (default@trixie: the default
# scenario on Debian 13 / OpenStack 2025.1, as its own instance with its own molecule state).
# --images-only builds (or finds cached) the images the lanes need, in parallel, and stops.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
# molecule.yml puts this on ANSIBLE_COLLECTIONS_PATH: containers.podman comes with the `ansible` package.
export VALET_SITE_COLLECTIONS=${VALET_SITE_COLLECTIONS:-$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')}
out=${VALET_MOLECULE_LOG_DIR:-$repo/tests/output/molecule}
images_only=
if [ "${1:-}" = --images-only ]; then
    images_only=1; shift
    out=${VALET_IMAGE_LOG_DIR:-$repo/tests/output/images}
fi
rm -rf "$out"; mkdir -p "$out"
# The default scenario's end-to-end tests write their figures (stack time, memory) to $out/figures.txt.
export VALET_MOLECULE_LOG_DIR=$out
if [ $# -gt 0 ]; then
    lanes=("$*")
elif [ "${VALET_MOLECULE_LANES:-3}" = 1 ]; then
    lanes=("multi_controller default default@trixie uninstall venv check")
elif [ "${VALET_MOLECULE_LANES:-3}" = 2 ]; then
    lanes=("multi_controller venv default@trixie" "default check uninstall")
else
    # Balanced by wall times with three lanes on 2 cores (the CPU is busy throughout, so the sum is what
    # counts). Measured 2026-12-03 with multi_controller's HA proof: lanes of 25.7, 28 and 29 min,
    # 29 min in all (the default verify 16 min on bookworm with the fault tests, 8 on trixie without).
    lanes=("default" "default@trixie check uninstall" "multi_controller venv")
fi

# SCENARIO@RELEASE -> the image, instance name and molecule state of that release.
release_of() { case $1 in *@*) echo "${1#*@}" ;; *) echo bookworm ;; esac; }
image_of() { [ "$1" = bookworm ] && echo localhost/valet-testhost:latest || echo "localhost/valet-testhost-$1:latest"; }
with_release() {  # with_release SCENARIO@RELEASE CMD...: CMD with the env of that release
    local rel; rel=$(release_of "$1"); shift
    if [ "$rel" = bookworm ]; then
        "$@"
    else
        # The fault tests (marker `faults`) run on bookworm only: they prove the plugins' client,
        # the same code on both releases, and cost about half of the verify.
        VALET_TESTHOST_IMAGE=$(image_of "$rel") VALET_DEFAULT_INSTANCE=valet-default-$rel \
            PYTEST_ADDOPTS="${PYTEST_ADDOPTS:-} -m 'not faults'" \
            MOLECULE_EPHEMERAL_DIRECTORY=${XDG_CACHE_HOME:-$HOME/.cache}/valet-openstack/molecule-default-$rel \
            "$@"
    fi
}

timed() {  # timed LOG TIMES LABEL CMD...: run into LOG, append the wall time to TIMES
    local log=$1 times=$2 label=$3; shift 3
    local t0=$SECONDS rc
    echo "== $label: $*" >>"$log"
    "$@" >>"$log" 2>&1
    rc=$?
    # also on stdout as it ends: a run cut short (CI's time limit) still shows where the time went
    printf '%-36s %5ss%s\n' "$label" "$(( SECONDS - t0 ))" "$([ $rc -eq 0 ] || echo '  FAILED')" | tee -a "$times"
    return $rc
}

# The scenario's own test_sequence, without the steps done here or that need Galaxy.
sequence() {
    python3 - "$1" <<'PY'
import sys, yaml
conf = yaml.safe_load(open("extensions/molecule/%s/molecule.yml" % sys.argv[1])) or {}
seq = (conf.get("scenario") or {}).get("test_sequence") or [
    "create", "prepare", "converge", "idempotence", "verify"]
print(" ".join(s for s in seq if s not in ("dependency", "cleanup", "destroy", "syntax", "lint")))
PY
}

lane() {  # lane N SCENARIO...: one after the other; stops at the first failure
    local n=$1; shift
    local log=$out/lane$n.log times=$out/lane$n.times item s step
    for item in "$@"; do
        s=${item%@*}
        with_release "$item" molecule destroy -s "$s" >>"$log" 2>&1
        for step in $(sequence "$s"); do
            # test_sequence says side_effect, the command line side-effect
            if ! timed "$log" "$times" "$item: $step" with_release "$item" molecule "${step//_/-}" -s "$s"; then
                timed "$log" "$times" "$item: destroy" with_release "$item" molecule destroy -s "$s"
                return 1
            fi
        done
        timed "$log" "$times" "$item: destroy" with_release "$item" molecule destroy -s "$s" || return 1
    done
}

t0=$SECONDS
# The releases the lanes need, built side by side (each has its own base and apt layers).
# shellcheck disable=SC2048,SC2086
releases=$(for item in ${lanes[*]}; do release_of "$item"; done | sort -u)
build_all() {  # build_all LABEL: one build-image.sh per release at once; a line of times each
    local rel pids=() rc=0 t
    for rel in $releases; do
        ( t=$SECONDS
          bash tests/testhost/build-image.sh --release "$rel" >"$out/image-$rel.log" 2>&1; r=$?
          printf '%-36s %5ss (%s)%s\n' "image $rel, $1" "$(( SECONDS - t ))" \
              "$(tail -n 3 "$out/image-$rel.log" | grep -oE 'cached|built in [0-9]+s' | head -1)" \
              "$([ $r -eq 0 ] || echo '  FAILED')" >"$out/image-$rel.time"
          exit $r ) &
        pids+=($!)
    done
    for t in "${pids[@]}"; do wait "$t" || rc=1; done
    for rel in $releases; do
        cat "$out/image-$rel.time"
        [ $rc -eq 0 ] || tail -n 40 "$out/image-$rel.log"
    done
    return $rc
}
# The first call is the cold build on a fresh machine ("cached" where the image already exists).
image_times=$(build_all "first call") || { echo "$image_times"; exit 1; }
image_times+=$'\n'$(build_all "second call") || exit 1
echo "$image_times"
[ -n "$images_only" ] && exit 0

pids=()
for i in "${!lanes[@]}"; do
    # shellcheck disable=SC2086
    lane "$i" ${lanes[$i]} &
    pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
        failed=1
        echo "== lane $i (${lanes[$i]}) FAILED; its log ends:"
        tail -n 80 "$out/lane$i.log"
    fi
done

# Secrets: the passwords of the test hosts must appear nowhere in what molecule printed.
leaks=0
for secret in $(python3 - <<'PY'
import yaml
v = yaml.safe_load(open("extensions/molecule/shared/group_vars/all.yml"))
for k, val in sorted(v.items()):
    if "password" in k and isinstance(val, str) and val and "{{" not in val:
        print(val)
PY
); do
    if grep -qF -- "$secret" "$out"/lane*.log; then
        echo "SECRET LEAK: a test password appears in the molecule output:"
        grep -nF -- "$secret" "$out"/lane*.log | head -5
        leaks=1
    fi
done
[ $leaks -eq 0 ] && echo "secrets: no test password in $(cat "$out"/lane*.log | wc -l) lines of molecule output"

echo "== wall times per scenario step (lanes ran side by side)"
echo "$image_times"
for i in "${!lanes[@]}"; do
    echo "-- lane $i: ${lanes[$i]}"
    cat "$out/lane$i.times" 2>/dev/null
done
echo "molecule total: $(( SECONDS - t0 ))s"
if [ -s "$out/figures.txt" ]; then
    echo "== figures of the end-to-end tests (default scenario; instance name first)"
    cat "$out/figures.txt"
fi
[ $failed -eq 0 ] && [ $leaks -eq 0 ]
