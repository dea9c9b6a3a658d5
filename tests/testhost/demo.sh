#!/usr/bin/env bash
# `make demo` (root, from the repository root, after the test-host image exists):
# converge playbooks/site.yml onto a sandbox controller (the molecule `default` scenario under
# another instance name and state directory; reused when already converged), create a demo
# stack with Valet GroupAssignments inside it, and show what valet-api was asked.
# `demo.sh destroy` (make demo-destroy) removes the sandbox.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=${VENV:-$PWD/.venv}
export PATH="$venv/bin:$PATH"
# molecule.yml puts this on ANSIBLE_COLLECTIONS_PATH: containers.podman comes with the `ansible` package.
export VALET_SITE_COLLECTIONS=${VALET_SITE_COLLECTIONS:-$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')}

scenario=default
instance=valet-sandbox
# The instance's name and molecule's memory of it, apart from the test runs of the same scenario.
export VALET_DEFAULT_INSTANCE=$instance
export MOLECULE_EPHEMERAL_DIRECTORY=${XDG_CACHE_HOME:-$HOME/.cache}/valet-openstack/sandbox
stack=valet-demo
template=molecule/default/files/demo-stack.yaml

say() { printf '\n=== %s\n' "$*"; }

if [ "${1:-}" = destroy ]; then
    molecule destroy -s "$scenario"
    exit
fi

# molecule remembers what it did to the instance (columns: ... created converged).
converged=$(molecule list -s "$scenario" -f plain 2>/dev/null | awk -v i="$instance" '$1 == i {print $NF}')
if [ "$converged" = true ] && podman container exists "$instance"; then
    say "reusing the converged container $instance"
else
    say "molecule create / converge -s $scenario as $instance (a few minutes)"
    molecule create -s "$scenario"  # prepare included: services up
    molecule converge -s "$scenario"
fi

in_box() { podman exec -i "$instance" "$@"; }
os() { in_box env OS_CLOUD=testhost openstack "$@"; }
emulator() {  # METHOD PATH: the valet-api emulator's control API inside the container
    in_box python3 -c 'import sys, urllib.request as u
r = u.urlopen(u.Request("http://127.0.0.1:8090/_emulator" + sys.argv[2], method=sys.argv[1]), timeout=10)
sys.stdout.write(r.read().decode())' "$1" "$2"
}

say "demo template ($template)"
cat "$template"
in_box sh -c 'cat > /tmp/valet-demo.yaml' < "$template"

# The stack's status once no action is in progress, GONE when there is none. Polled with
# `stack show`: the CLI's --wait follows the event list and has returned early here.
settled_status() {
    local out
    for _ in $(seq 150); do
        if out=$(os stack show -f value -c stack_status "$stack" 2>&1); then
            case $out in *_IN_PROGRESS) ;; *) echo "$out"; return ;; esac
        elif [[ $out == *"Stack not found"* ]]; then
            echo GONE
            return
        fi
        sleep 2
    done
    echo "STILL_IN_PROGRESS"
}

# A re-run replaces the last demo stack.
if [ "$(settled_status)" != GONE ]; then
    say "deleting the previous $stack"
    os stack delete -y "$stack" >/dev/null
    [ "$(settled_status)" = GONE ] || { echo "the previous $stack could not be deleted" >&2; exit 1; }
fi
emulator DELETE /requests >/dev/null
emulator POST /fault >/dev/null  # no body: back to mode "none"

say "openstack stack create $stack"
os stack create -t /tmp/valet-demo.yaml "$stack" >/dev/null
status=$(settled_status)
echo "stack $stack: $status"
os stack resource list "$stack"
if [ "$status" != CREATE_COMPLETE ]; then
    os stack show -f value -c stack_status_reason "$stack" >&2
    exit 1
fi

say "what valet-api was asked (recorded by the emulator)"
emulator GET /requests | python3 -c '
import json, sys
for req in json.load(sys.stdin)["requests"]:
    print("%s %s%s" % (req["method"], req["path"], "" if req["token"] else "  (no token)"))
    if req["body"] is not None:
        print(json.dumps(req["body"], indent=2, sort_keys=True))
'

say "done"
echo "The sandbox keeps running: look around with  podman exec -it $instance bash"
echo "  (OS_CLOUD=testhost openstack stack list; /var/log/heat/heat-engine.log)"
echo "Remove it with:  make demo-destroy"
