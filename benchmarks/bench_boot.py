#!/usr/bin/env python3
"""Nova's boot time with the real valet-api against the emulator, on a converged sandbox (printed only).

    make demo && make bench-boot                      # the demo's sandbox (valet-sandbox)
    python benchmarks/bench_boot.py --instance valet-default --servers 6

In the sandbox container, one block of plain servers (no Heat: the filter's one-server plan, then
its placement) boots with nova-scheduler's ValetFilter calling the real valet-api (roles/valet_api,
port 8090), then one block with the filter pointed at the emulator (tools/valet_api_emulator.py,
started on a side port), then the filter is pointed back. Each boot is timed from the API call to
ACTIVE; the table gives both blocks' figures and the difference of their medians. nova.conf's
[valet] url is switched with the collection's oslo_ini module (its ledger restores the value) and
nova-scheduler restarted by testhost-up. Nothing is asserted: the machine's load moves these
figures more than valet-api does, so read them side by side, from one run.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLOUD_CTL = os.path.join(REPO, "extensions", "molecule", "default", "files", "cloud_ctl.py")
EMULATOR = "/usr/local/lib/valet-testhost/valet_api_emulator.py"
SIDE_PORT = 8099
LEDGER = "/var/lib/valet-bench/nova-ledger.json"
HOSTS = "r1-h1,r1-h2,r2-h1,r2-h2"


def in_box(instance, *argv, stdin=None):
    out = subprocess.run(
        ["podman", "exec", "-i", instance, *argv], input=stdin, capture_output=True, text=True, check=False
    )
    if out.returncode:
        sys.exit("%s: %s failed: %s" % (instance, " ".join(argv), out.stderr.strip()[-500:]))
    return out.stdout


def set_url(instance, url):
    """[valet] url of nova.conf with the collection's module, then nova-scheduler restarted."""
    args = "path=/etc/nova/nova.conf section=valet option=url value=%s ledger=%s" % (url, LEDGER)
    subprocess.run(
        ["ansible", "all", "-i", instance + ",", "-c", "containers.podman.podman", "-m", "valet.openstack.oslo_ini"]
        + ["-a", args],
        check=True,
        capture_output=True,
        text=True,
    )
    in_box(instance, "sh", "-c", "service nova-scheduler stop; /usr/local/sbin/testhost-up nova >/dev/null")


def drop_plan(instance, url, ident):
    """The filter's one-server plan goes with its server (as in the molecule tests)."""
    code = (
        "import subprocess, sys, urllib.request as u\n"
        "tok = subprocess.run(['openstack', '--os-cloud', 'testhost', 'token', 'issue', '-f', 'value', '-c', 'id'],"
        " check=True, capture_output=True, text=True).stdout.strip()\n"
        "u.urlopen(u.Request(sys.argv[1] + '/plans/' + sys.argv[2], method='DELETE', headers={'X-Auth-Token': tok}),"
        " timeout=30)\n"
    )
    in_box(instance, "python3", "-c", code, url, ident)


def boot_block(instance, label, count, url):
    seconds = []
    for n in range(count):
        name = "bench-boot-%s-%d" % (label, n)
        started = time.monotonic()
        show = json.loads(
            in_box(instance, "python3", "/tmp/cloud_ctl.py", "boot", name, "valet.tiny", "valet-tiny", "180")
        )
        seconds.append(time.monotonic() - started)
        server = show["server"]
        if server["status"] != "ACTIVE":
            sys.exit("%s: %s ended %s: %s" % (label, name, server["status"], server.get("fault")))
        in_box(instance, "python3", "/tmp/cloud_ctl.py", "delete-server", server["id"], "120")
        drop_plan(instance, url, server["id"])
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instance", default=os.environ.get("VALET_DEFAULT_INSTANCE", "valet-sandbox"))
    parser.add_argument("--servers", type=int, default=6, help="servers per block (booted one at a time)")
    args = parser.parse_args()

    with open(CLOUD_CTL, encoding="utf-8") as handle:
        in_box(args.instance, "sh", "-c", "cat > /tmp/cloud_ctl.py", stdin=handle.read())
    real = in_box(args.instance, "sh", "-c", "sed -n 's/^url *= *//p' /etc/nova/nova.conf").split()
    if len(real) != 1:
        sys.exit("%s: expected one [valet] url in nova.conf, found %r" % (args.instance, real))
    in_box(
        args.instance,
        "sh",
        "-c",
        "mkdir -p %s; setsid python3 %s --host 127.0.0.1 --port %d --hosts %s </dev/null >/dev/null 2>&1 &"
        % (os.path.dirname(LEDGER), EMULATOR, SIDE_PORT, HOSTS),
    )
    load = [os.getloadavg()[0]]
    side = "http://127.0.0.1:%d/v1" % SIDE_PORT
    figures = {"valet-api": boot_block(args.instance, "api", args.servers, real[0])}
    try:
        set_url(args.instance, side)
        figures["emulator"] = boot_block(args.instance, "emu", args.servers, side)
    finally:
        set_url(args.instance, real[0])
        in_box(
            args.instance,
            "sh",
            "-c",
            "pkill -f '^python3 %s --host 127.0.0.1 --port %d' || true" % (EMULATOR, SIDE_PORT),
        )
    load.append(os.getloadavg()[0])

    print(
        "Nova boot to ACTIVE, %d plain servers per block, one at a time, on %s (load %.1f -> %.1f)"
        % (args.servers, args.instance, load[0], load[1])
    )
    print("%-10s %8s %8s %8s %8s" % ("filter to", "median", "mean", "min", "max"))
    for label, secs in figures.items():
        print(
            "%-10s %7.2fs %7.2fs %7.2fs %7.2fs"
            % (label, statistics.median(secs), statistics.mean(secs), min(secs), max(secs))
        )
    diff = statistics.median(figures["valet-api"]) - statistics.median(figures["emulator"])
    print("median difference, valet-api - emulator: %+.2fs" % diff)


if __name__ == "__main__":
    main()
