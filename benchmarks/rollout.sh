#!/usr/bin/env bash
# Rollout cost, printed (never asserted): for each molecule scenario, the first converge of
# playbooks/site.yml and the re-run that changes nothing, with wall time, and per controller the
# tasks that ran and the module invocations (benchmarks/callback_plugins/valet_bench.py).
# Usage: benchmarks/rollout.sh [SCENARIO...]   (default: default multi_controller; `make bench-rollout`)
# Env: VALET_BENCH_VERIFY=1 also runs `molecule verify` after the re-run; VALET_BENCH_KEEP=1 leaves the
# containers up; VALET_BENCH_EPHEMERAL=PREFIX keeps each scenario's molecule state in PREFIX-SCENARIO
# (so a second checkout's runs do not share it). Pin the image with VALET_TESTHOST_IMAGE and name the
# default instance with VALET_DEFAULT_INSTANCE as for any molecule run.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
export VALET_SITE_COLLECTIONS=${VALET_SITE_COLLECTIONS:-$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')}
export ANSIBLE_CALLBACK_PLUGINS=$repo/benchmarks/callback_plugins
# profile_tasks: the slowest tasks at the end of each converge log.
export ANSIBLE_CALLBACKS_ENABLED=valet_bench,ansible.posix.profile_tasks
out=${VALET_BENCH_DIR:-$repo/tests/output/bench-rollout}
mkdir -p "$out"
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(default multi_controller)

ephemeral() {  # ephemeral SCENARIO: molecule's state directory for it, if a prefix is set
    [ -z "${VALET_BENCH_EPHEMERAL:-}" ] || export MOLECULE_EPHEMERAL_DIRECTORY=$VALET_BENCH_EPHEMERAL-$1
}

run() {  # run SCENARIO LABEL: molecule converge, timed, counts to $out/SCENARIO.LABEL.json
    local s=$1 label=$2 t0
    t0=$(date +%s.%N)
    cut -d' ' -f1 /proc/loadavg >"$out/$s.$label.load"  # 1-minute load before and after the run
    VALET_BENCH_COUNTS=$out/$s.$label.json molecule converge -s "$s" >"$out/$s.$label.log" 2>&1 \
        || { tail -n 60 "$out/$s.$label.log"; return 1; }
    python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 1))" "$t0" "$(date +%s.%N)" \
        >"$out/$s.$label.seconds"
    cut -d' ' -f1 /proc/loadavg >>"$out/$s.$label.load"
}

for s in "${scenarios[@]}"; do
    ephemeral "$s"
    molecule destroy -s "$s" >"$out/$s.setup.log" 2>&1
    if ! { molecule create -s "$s" && molecule prepare -s "$s"; } >>"$out/$s.setup.log" 2>&1; then
        tail -n 60 "$out/$s.setup.log"; exit 1
    fi
    run "$s" first
    run "$s" noop
    if [ "${VALET_BENCH_VERIFY:-0}" = 1 ]; then
        molecule verify -s "$s" >"$out/$s.verify.log" 2>&1 || { tail -n 80 "$out/$s.verify.log"; exit 1; }
    fi
    [ "${VALET_BENCH_KEEP:-0}" = 1 ] || molecule destroy -s "$s" >>"$out/$s.setup.log" 2>&1
done

python3 - "$out" "${scenarios[@]}" <<'PY'
import json, os, platform, sys
out, scenarios = sys.argv[1], sys.argv[2:]
cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), '?')
print('machine: %s, %d cores, %s' % (cpu, os.cpu_count(), platform.platform()))
ctl = lambda h: h not in ('localhost', 'valet-mc-infra')
rows = {}
for s in scenarios:
    for label in ('first', 'noop'):
        seconds = float(open(os.path.join(out, '%s.%s.seconds' % (s, label))).read())
        counts = json.load(open(os.path.join(out, '%s.%s.json' % (s, label))))
        load = open(os.path.join(out, '%s.%s.load' % (s, label))).read().split()
        rows[s, label] = seconds, {h: c for h, c in counts.items() if ctl(h)}, '-'.join(load)
print('%-17s %-6s %7s %8s %-9s | per controller: tasks run / skipped, module invocations, changed'
      ' (+ Keystone tasks / modules where the controller is the Keystone host)'
      % ('scenario', 'run', 'seconds', 'of first', 'load'))
for (s, label), (seconds, counts, load) in rows.items():
    per = ', '.join('%s %d/%d, %d, %d%s' % (
        h.replace('valet-mc-', ''), c['tasks'], c['skipped'], c['modules'], c['changed'],
        ' (+%d/%d)' % (c['keystone_tasks'], c['keystone_modules']) if c.get('keystone_tasks') else '')
        for h, c in sorted(counts.items()))
    print('%-17s %-6s %7.1f %7.0f%% %-9s | %s' % (s, label, seconds, 100 * seconds / rows[s, 'first'][0], load, per))
if ('default', 'noop') in rows and ('multi_controller', 'noop') in rows:
    print('no-op of 3 controllers / no-op of 1: %.2f' % (rows['multi_controller', 'noop'][0] / rows['default', 'noop'][0]))
PY
