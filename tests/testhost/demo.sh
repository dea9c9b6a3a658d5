#!/usr/bin/env bash
# `make demo` (root, from the repository root, after the test-host image exists):
# converge playbooks/site.yml onto a sandbox cloud (the molecule `default` scenario under
# another instance name and state directory; reused when already converged: Heat, Nova with
# four fake compute hosts in two racks, the valet-api emulator), create a stack of seven real
# servers in nested Valet groups, show where Nova put each one and whether every group's rule
# holds there, then boot one plain server without Heat and show where it went.
# `demo.sh destroy` (make demo-destroy) removes the sandbox.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=${VENV:-$PWD/.venv}
export PATH="$venv/bin:$PATH"
# molecule.yml puts this on ANSIBLE_COLLECTIONS_PATH: containers.podman comes with the `ansible` package.
export VALET_SITE_COLLECTIONS=${VALET_SITE_COLLECTIONS:-$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')}

scenario=default
# RELEASE (make demo RELEASE=trixie): the test host's Debian release; bookworm is the default.
release=${RELEASE:-bookworm}
case $release in
    bookworm) instance=valet-sandbox image=localhost/valet-testhost:latest state=sandbox ;;
    trixie) instance=valet-sandbox-trixie image=localhost/valet-testhost-trixie:latest state=sandbox-trixie ;;
    *) echo "demo: unknown RELEASE $release (bookworm or trixie)" >&2; exit 2 ;;
esac
# The instance's name and molecule's memory of it, apart from the test runs of the same scenario.
export VALET_DEFAULT_INSTANCE=$instance VALET_TESTHOST_IMAGE=$image
export MOLECULE_EPHEMERAL_DIRECTORY=${XDG_CACHE_HOME:-$HOME/.cache}/valet-openstack/$state
stack=valet-demo
plain=valet-demo-plain
template=extensions/molecule/default/files/servers-stack.yaml
report=extensions/molecule/default/files/placement_report.py

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
in_box sh -c 'cat > /tmp/placement_report.py' < "$report"

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

# A re-run replaces the last demo stack and plain server (and valet-api's plan of the latter).
if [ "$(settled_status)" != GONE ]; then
    say "deleting the previous $stack"
    os stack delete -y "$stack" >/dev/null
    [ "$(settled_status)" = GONE ] || { echo "the previous $stack could not be deleted" >&2; exit 1; }
fi
for id in $(os server list --name "^$plain\$" -f value -c ID); do
    os server delete --wait "$id"
    in_box python3 -c 'import sys, urllib.request as u
u.urlopen(u.Request("http://127.0.0.1:8090/v1/plans/" + sys.argv[1], method="DELETE",
                    headers={"X-Auth-Token": "demo"}), timeout=10)' "$id" 2>/dev/null || true
done
emulator DELETE /requests >/dev/null
emulator POST /fault >/dev/null  # no body: back to mode "none"

say "openstack stack create $stack (7 servers)"
t0=$SECONDS
os stack create -t /tmp/valet-demo.yaml "$stack" >/dev/null
status=$(settled_status)
echo "stack $stack: $status in $(( SECONDS - t0 ))s"
if [ "$status" != CREATE_COMPLETE ]; then
    os stack show -f value -c stack_status_reason "$stack" >&2
    exit 1
fi

say "where Nova put them (OS-EXT-SRV-ATTR:host; rack = host name up to the last '-')"
in_box env OS_CLOUD=testhost python3 /tmp/placement_report.py "$stack" --table

say "what valet-api was asked (recorded by the emulator)"
emulator GET /requests | python3 -c '
import json, sys
for req in json.load(sys.stdin)["requests"]:
    body = req["body"] or {}
    extra = ""
    if req["path"] == "/v1/plans" and req["method"] == "POST":
        names = sorted(r["name"] for r in body.get("resources", {}).values())
        extra = "  plan %s: %s" % (body.get("plan_name"), ", ".join(names))
    elif "locations" in body:
        extra = "  candidates %s" % ", ".join(body["locations"])
    print("%s %s%s" % (req["method"], req["path"], extra))
'
echo "hosts valet-api reserves for exclusivity groups:"
emulator GET /state | python3 -c '
import json, sys
for host, group in sorted(json.load(sys.stdin)["reserved"].items()):
    print("  %s -> %s" % (host, group))
'

say "openstack server create $plain (no Heat: the filter asks valet-api with a one-server plan)"
emulator DELETE /requests >/dev/null
# --wait prints its progress on stdout too: the id is the last line.
id=$(os --os-compute-api-version 2.37 server create -f value -c id --flavor valet.tiny \
    --image valet-tiny --nic none --wait "$plain" | tail -n 1)
os server show -f json "$id" | python3 -c '
import json, sys
s = json.load(sys.stdin)
host = s["OS-EXT-SRV-ATTR:host"] or "-"
print("%s: %s on host %s (rack %s)" % (s["name"], s["status"], host, host.rsplit("-", 1)[0]))
'
emulator GET /requests | python3 -c '
import json, sys
for req in json.load(sys.stdin)["requests"]:
    print("%s %s  candidates %s" % (req["method"], req["path"],
                                    ", ".join((req["body"] or {}).get("locations") or [])))
'
echo "nova-scheduler's log:"
in_box grep -h "valet_os.nova.valet_filter.*$id" /var/log/nova/nova-scheduler.log | sed 's/^[^ ]* [^ ]* [0-9]* //' || true

say "done"
echo "The sandbox keeps running: look around with  podman exec -it $instance bash"
echo "  (OS_CLOUD=testhost openstack server list --long; /var/log/nova/nova-scheduler.log)"
echo "Remove it with:  make demo-destroy$([ "$release" = bookworm ] || echo " RELEASE=$release")"
