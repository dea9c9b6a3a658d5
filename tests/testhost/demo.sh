#!/usr/bin/env bash
# `make demo` (root, from the repository root, after the test-host image exists):
# converge playbooks/site.yml onto a sandbox cloud (the molecule `default` scenario under
# another instance name and state directory; reused when already converged: Heat, Nova with
# four fake compute hosts in two rack aggregates, the real valet-api from roles/valet_api with its
# SQLite database), create a stack of seven real servers in nested Valet groups, show where Nova put
# each one, whether every group's rule holds there and what valet-api decided and was asked, then
# boot one plain server without Heat and show where it went.
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
valet() {  # METHOD PATH: valet-api's answer (JSON) to the cloud admin (its policy: admin or service)
    # The token goes in on stdin: never on a command line, where ps would show it.
    os token issue -f value -c id | in_box python3 -c 'import sys, urllib.request as u, urllib.error as e
req = u.Request("http://127.0.0.1:8090" + sys.argv[2], method=sys.argv[1],
                headers={"X-Auth-Token": sys.stdin.read().strip()})
try:
    sys.stdout.write(u.urlopen(req, timeout=30).read().decode())
except e.HTTPError as err:
    if err.code != 404:
        raise' "$1" "$2"
}
api_log=/var/log/valet/valet-api.log
api_log_size() { in_box stat -c %s "$api_log"; }
asked_since() {  # OFFSET: the requests valet-api answered since (uwsgi's request log lines)
    in_box tail -c +"$(( $1 + 1 ))" "$api_log" | grep -oE '(GET|POST|PUT|DELETE) /v1/[^ ]+ => generated [0-9]+ bytes in [0-9]+ msecs \(HTTP/[0-9.]+ [0-9]+\)' \
        | sed -E 's/ => generated [0-9]+ bytes in ([0-9]+) msecs \(HTTP\/[0-9.]+ ([0-9]+)\)/  -> \2 in \1 ms/' || true
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
    valet DELETE "/v1/plans/$id" >/dev/null
done

say "openstack stack create $stack (7 servers)"
t0=$SECONDS
offset=$(api_log_size)
os stack create -t /tmp/valet-demo.yaml "$stack" >/dev/null
status=$(settled_status)
echo "stack $stack: $status in $(( SECONDS - t0 ))s"
if [ "$status" != CREATE_COMPLETE ]; then
    os stack show -f value -c stack_status_reason "$stack" >&2
    exit 1
fi

say "where Nova put them (OS-EXT-SRV-ATTR:host; rack: the host aggregate whose valet_rack names it)"
in_box env OS_CLOUD=testhost python3 /tmp/placement_report.py "$stack" --table

say "what valet-api was asked (its request log)"
asked_since "$offset"
stack_id=$(os stack show -f value -c id "$stack")
echo "valet-api's plan for the stack (GET /v1/plans/$stack_id):"
valet GET "/v1/plans/$stack_id" | python3 -c '
import json, sys
for p in sorted(json.load(sys.stdin)["plan"]["placements"].values(), key=lambda p: p["name"]):
    print("  %-6s -> %s" % (p["name"], p["location"]))
'
echo "hosts valet-api reserves for exclusivity groups (its database):"
in_box python3 -c '
import sqlite3
db = sqlite3.connect("file:/var/lib/valet/valet.sqlite?mode=ro", uri=True)
for host, key in db.execute("select name, exclusive from hosts where exclusive is not null order by name"):
    print("  %s -> %s" % (host, key))
'

say "openstack server create $plain (no Heat: the filter asks valet-api with a one-server plan)"
offset=$(api_log_size)
# --wait prints its progress on stdout too: the id is the last line.
id=$(os --os-compute-api-version 2.37 server create -f value -c id --flavor valet.tiny \
    --image valet-tiny --nic none --wait "$plain" | tail -n 1)
os server show -f json "$id" | python3 -c '
import json, sys
s = json.load(sys.stdin)
host = s["OS-EXT-SRV-ATTR:host"] or "-"
print("%s: %s on host %s" % (s["name"], s["status"], host))
'
echo "what valet-api was asked:"
asked_since "$offset"
echo "its one-server plan (GET /v1/plans/$id):"
valet GET "/v1/plans/$id" | python3 -c '
import json, sys
for p in json.load(sys.stdin)["plan"]["placements"].values():
    print("  %s -> %s" % (p["name"], p["location"]))
'
echo "nova-scheduler's log:"
in_box grep -h "valet_os.nova.valet_filter.*$id" /var/log/nova/nova-scheduler.log | sed 's/^[^ ]* [^ ]* [0-9]* //' || true

say "done"
echo "The sandbox keeps running: look around with  podman exec -it $instance bash"
echo "  (OS_CLOUD=testhost openstack server list --long; /var/log/nova/nova-scheduler.log)"
echo "Remove it with:  make demo-destroy$([ "$release" = bookworm ] || echo " RELEASE=$release")"
