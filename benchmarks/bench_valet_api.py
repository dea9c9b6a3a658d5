#!/usr/bin/env python3
"""Figures for valet-api under gunicorn on a private MariaDB. Prints numbers; asserts nothing.

    .venv/bin/python benchmarks/bench_valet_api.py      (make bench)

- plans per second: 2 valet-api processes (2 workers x 4 threads each), 8 clients planning
  stacks of 4 servers in a diversity group over 100 hosts
- placement-confirm latency p50 / p95 under 50 concurrent requests (Nova confirming the planned host),
  and the CPU a confirm costs valet-api, MariaDB and this client: on a small machine that cost, not
  valet-api's waiting, sets the latency under load (50 requests at once cannot drain faster than
  50 x CPU per request / cores)

noauth2: valet-api's own cost, not Keystone's. Needs mariadb-install-db and mariadbd
(tests/install-host-deps.sh installs mariadb-server).
"""

import concurrent.futures
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[0:0] = [os.path.join(ROOT, "files", "valet_api"), os.path.join(ROOT, "tests", "valet_api")]

from valet_api_fakes import make_conf  # noqa: E402
from valet_api_fakes import sync  # noqa: E402
from valet_api_mariadb import MariaDB  # noqa: E402
from valet_api_mariadb import missing  # noqa: E402
from valet_api_testapp import Cluster  # noqa: E402

GROUP = "ATT::Valet::GroupAssignment"
HOSTS = [
    ("r%d-h%d" % (r, h), "r%d" % r, {"VCPU": 64, "MEMORY_MB": 262144, "DISK_GB": 4000})
    for r in range(1, 11)
    for h in range(1, 11)
]
PLANS = 200
CONFIRMS = 50


def stack(i):
    servers = {
        "st%d-s%d" % (i, n): {"name": "s%d" % n, "type": "OS::Nova::Server", "properties": {"flavor": "m1.small"}}
        for n in range(4)
    }
    servers["st%d-g" % i] = {
        "name": "g",
        "type": GROUP,
        "properties": {"group_type": "diversity", "level": "host", "resources": sorted(servers)},
    }
    return {"plan_name": "st%d" % i, "stack_id": "st%d" % i, "timeout": "60 sec", "resources": servers}


def main():
    absent = missing()
    if absent:
        print("valet-api benchmark skipped: %s not installed (tests/install-host-deps.sh)" % ", ".join(absent))
        return
    db = MariaDB().start()
    tmp = tempfile.mkdtemp(prefix="bench-valet-api-")
    try:
        url = db.create_database("valet_bench")
        sync(make_conf(url))
        cluster = Cluster(url, HOSTS, processes=2, workers=2, threads=4, tmp=tmp)
        try:
            run(cluster, db)
        finally:
            cluster.stop()
    finally:
        db.stop()


def run(cluster, db):
    print("machine: %d cores, load average %.1f when valet-api started" % (os.cpu_count(), os.getloadavg()[0]))
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        started = time.monotonic()
        answers = list(pool.map(lambda i: cluster.post(i, "/v1/plans", stack(i), "bench"), range(PLANS)))
        elapsed = time.monotonic() - started
    placed = [body["plan"] for code, body in answers if code == 201]
    print(
        "valet-api plans/s, 2 processes, 8 clients, 4-server diversity stacks over %d hosts: %.1f (%d of %d planned)"
        % (len(HOSTS), len(placed) / elapsed, len(placed), PLANS)
    )
    for code, body in answers:
        if code != 201:
            print("  not planned: %s %s" % (code, body.get("explanation", body)))

    # Nova confirming planned hosts, 50 at a time: every server's first placement request.
    servers = [(u, p["location"]) for plan in placed for u, p in sorted(plan["placements"].items())]
    hosts = [h[0] for h in HOSTS]

    def confirm(item):
        i, (u, _host) = item
        begin = time.monotonic()
        code, _body = cluster.post(i, "/v1/placements/" + u, {"locations": hosts, "resource_id": "inst-" + u}, "bench")
        return code, time.monotonic() - begin

    # One at a time first: what a confirm costs without queueing (a confirm of a confirmed host is the same work).
    alone = sorted(confirm(item)[1] for item in enumerate(servers[:CONFIRMS]))
    server_pids = [p.pid for p in cluster.procs]
    cpu_before = (_cpu(server_pids), _cpu([db.proc.pid]), time.process_time())
    with concurrent.futures.ThreadPoolExecutor(CONFIRMS) as pool:
        results = list(pool.map(confirm, enumerate(servers)))
    cpu = [
        (after - before) / len(servers) * 1000
        for before, after in zip(cpu_before, (_cpu(server_pids), _cpu([db.proc.pid]), time.process_time()))
    ]
    latencies = sorted(t for code, t in results if code == 201)
    print(
        "valet-api placement confirm, one at a time: p50 %.1f ms, p95 %.1f ms; under %d concurrent requests: "
        "p50 %.1f ms, p95 %.1f ms (%d confirms; 2 processes x 2 workers x 4 threads)"
        % (
            statistics.median(alone) * 1000,
            _p95(alone) * 1000,
            CONFIRMS,
            statistics.median(latencies) * 1000,
            _p95(latencies) * 1000,
            len(latencies),
        )
    )
    print(
        "CPU per confirm under load: valet-api %.2f ms, MariaDB %.2f ms, this client %.2f ms; on %d cores, "
        "%d requests at once need at least %.0f ms to drain"
        % (cpu[0], cpu[1], cpu[2], os.cpu_count(), CONFIRMS, CONFIRMS * sum(cpu) / os.cpu_count())
    )


def _cpu(pids):
    """CPU seconds (user + system) of these processes and all their descendants, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            procs[int(name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))  # ppid, utime + stime
    tree, grew = set(pids), True
    while grew:
        grown = tree | {pid for pid, (ppid, _ticks) in procs.items() if ppid in tree}
        grew, tree = grown != tree, grown
    return sum(procs[pid][1] for pid in tree if pid in procs) / tick


def _p95(sorted_values):
    return sorted_values[int(0.95 * (len(sorted_values) - 1))]


if __name__ == "__main__":
    main()
