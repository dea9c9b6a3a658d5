#!/usr/bin/env bash
# Every molecule scenario, step by step, with wall times; then a grep of the whole output for the
# test passwords (they must never be printed). Usage: tests/molecule-suite.sh [SCENARIO...]
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(default uninstall venv multi_controller)
out=${VALET_MOLECULE_LOG_DIR:-$repo/tests/output/molecule}
mkdir -p "$out"
log=$out/all.log
: >"$log"
times=()

stamp() { date +%s; }
timed() {  # timed LABEL CMD...: run, append output to the log, remember the wall time
    local label=$1; shift
    local t0 rc
    t0=$(stamp)
    echo "== $label: $*" | tee -a "$log"
    "$@" >>"$log" 2>&1
    rc=$?
    times+=("$(printf '%-40s %5ss%s' "$label" "$(( $(stamp) - t0 ))" "$([ $rc -eq 0 ] || echo '  FAILED')")")
    [ $rc -eq 0 ] || tail -n 60 "$log"
    return $rc
}

# The scenario's own test_sequence, without the steps this script does itself or that need Galaxy.
sequence() {
    python3 - "$1" <<'PY'
import sys, yaml
conf = yaml.safe_load(open("molecule/%s/molecule.yml" % sys.argv[1])) or {}
seq = (conf.get("scenario") or {}).get("test_sequence") or [
    "create", "prepare", "converge", "idempotence", "verify"]
print(" ".join(s for s in seq if s not in ("dependency", "cleanup", "destroy", "syntax", "lint")))
PY
}

summary() {
    echo
    echo "== wall times"
    printf '%s\n' "${times[@]}"
}

failed=0
timed "image build (first call)" bash tests/testhost/build-image.sh || { summary; exit 1; }
timed "image build (cached)" bash tests/testhost/build-image.sh || { summary; exit 1; }
for s in "${scenarios[@]}"; do
    molecule destroy -s "$s" >>"$log" 2>&1
    for step in $(sequence "$s"); do
        if ! timed "$s: $step" molecule "$step" -s "$s"; then failed=1; break; fi
    done
    timed "$s: destroy" molecule destroy -s "$s" || failed=1
    [ $failed -eq 0 ] || break
done

# Secrets: the passwords of the test hosts must appear nowhere in what molecule printed.
leaks=0
for secret in $(python3 - <<'PY'
import yaml
v = yaml.safe_load(open("molecule/shared/group_vars/all.yml"))
for k, val in sorted(v.items()):
    if "password" in k and isinstance(val, str) and val and "{{" not in val:
        print(val)
PY
); do
    if grep -qF -- "$secret" "$log"; then
        echo "SECRET LEAK: a test password appears in $log:"; grep -nF -- "$secret" "$log" | head -5
        leaks=1
    fi
done
[ $leaks -eq 0 ] && echo "secrets: no test password in $(wc -l <"$log") lines of molecule output"
summary
[ $failed -eq 0 ] && [ $leaks -eq 0 ]
