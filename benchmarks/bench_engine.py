#!/usr/bin/env python3
"""Plan times of valet-api's placement engine. Prints numbers; asserts nothing about time.

    .venv/bin/python benchmarks/bench_engine.py      (make bench)

- plan time for 10 / 100 / 1,000 servers in nested groups over 100 / 1,000 / 5,000 hosts
- 1,000 servers over 5,000 hosts with no rack aggregates (each host a rack of its own)
- the goal case: a 200-server plan in 20 groups over 1,000 hosts (goal: under 0.5 s)
- the worst refusal: a plan that passes every quick bound and fails only when the search budget runs out

Clouds: racks of 20 hosts (64 VCPU, 256 GB, 2 TB free when empty); 60% of the hosts already run 1 to 12
servers of the flavors below, 2% are reserved by another project's exclusivity group. The cloud and the
plans come from a seeded generator, so every run times the same problems.
"""

import os
import platform
import random
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "files", "valet_api"))

from valet_api import engine  # noqa: E402

FLAVORS = [
    {"VCPU": 1, "MEMORY_MB": 2048, "DISK_GB": 20},
    {"VCPU": 2, "MEMORY_MB": 4096, "DISK_GB": 40},
    {"VCPU": 4, "MEMORY_MB": 8192, "DISK_GB": 80},
]
HOST_SIZE = {"VCPU": 64, "MEMORY_MB": 262144, "DISK_GB": 2000}
RACK_SIZE = 20
REPEAT = 3


def make_cloud(n_hosts, seed=1, racks=True):
    """racks=False: no rack aggregates, so each host is a rack of its own."""
    rnd = random.Random(seed)
    hosts = []
    for i in range(n_hosts):
        name = "r%03d-h%02d" % (i // RACK_SIZE, i % RACK_SIZE) if racks else "cmp%05d" % i
        free, count, exclusive = dict(HOST_SIZE), 0, None
        roll = rnd.random()
        if roll < 0.02:
            exclusive, count = "other-project:db", 2
        elif roll < 0.62:
            count = rnd.randint(1, 12)
        for _ in range(count):
            for c, v in rnd.choice(FLAVORS).items():
                free[c] -= v
        hosts.append(engine.Host(name, name.split("-")[0] if racks else name, free, servers=count, exclusive=exclusive))
    return hosts


def tier(i, flavor, exclusive):
    """10 servers: app (rack affinity) holding web (host diversity), cache (host affinity), db, 2 workers."""
    servers = [engine.Server("t%d-s%d" % (i, j), "t%d-s%d" % (i, j), flavor) for j in range(10)]
    sid = [s.id for s in servers]
    groups = [
        engine.Group("web-%d" % i, "web-%d" % i, "diversity", "host", tuple(sid[0:4])),
        engine.Group("cache-%d" % i, "cache-%d" % i, "affinity", "host", tuple(sid[4:6])),
        engine.Group(
            "db-%d" % i,
            "db-%d" % i,
            "exclusivity" if exclusive else "diversity",
            "host",
            tuple(sid[6:8]),
            "project:db-%d" % i if exclusive else None,
        ),
    ]
    members = ("web-%d" % i, "cache-%d" % i, "db-%d" % i) + tuple(sid[8:10])
    groups.append(engine.Group("app-%d" % i, "app-%d" % i, "affinity", "rack", members))
    return servers, groups


def grid_plan(n_servers):
    """Tiers of 10 servers; every 5th tier's db is an exclusivity group; zones of 3 apps on different racks."""
    servers, groups = [], []
    for i in range(n_servers // 10):
        s, g = tier(i, FLAVORS[i % 3], exclusive=i % 5 == 0)
        servers += s
        groups += g
    apps = ["app-%d" % i for i in range(n_servers // 10)]
    for z in range(0, len(apps) - 1, 3):
        groups.append(engine.Group("zone-%d" % z, "zone-%d" % z, "diversity", "rack", tuple(apps[z : z + 3])))
    return servers, groups


def hosts_only_plan(n_servers):
    """The grid's tiers without their rack-level groups; zones spread the caches (host affinity) over hosts."""
    servers, groups = [], []
    for i in range(n_servers // 10):
        s, g = tier(i, FLAVORS[i % 3], exclusive=i % 5 == 0)
        servers += s
        groups += [x for x in g if x.level == "host"]
    caches = ["cache-%d" % i for i in range(n_servers // 10)]
    for z in range(0, len(caches) - 1, 3):
        groups.append(engine.Group("zone-%d" % z, "zone-%d" % z, "diversity", "host", tuple(caches[z : z + 3])))
    return servers, groups


def goal_plan():
    """200 servers in 20 groups: 4 tiers of app (rack affinity: web 12 spread over hosts, cache 4 on one host,
    db 2 exclusive, 22 workers) and batch (10 servers spread over racks)."""
    servers, groups = [], []
    for t in range(4):
        s = [engine.Server("g%d-s%d" % (t, j), "g%d-s%d" % (t, j), FLAVORS[j % 3]) for j in range(50)]
        sid = [x.id for x in s]
        servers += s
        groups += [
            engine.Group("web%d" % t, "web%d" % t, "diversity", "host", tuple(sid[0:12])),
            engine.Group("cache%d" % t, "cache%d" % t, "affinity", "host", tuple(sid[12:16])),
            engine.Group("db%d" % t, "db%d" % t, "exclusivity", "host", tuple(sid[16:18]), "project:db%d" % t),
            engine.Group(
                "app%d" % t,
                "app%d" % t,
                "affinity",
                "rack",
                ("web%d" % t, "cache%d" % t, "db%d" % t) + tuple(sid[18:40]),
            ),
            engine.Group("batch%d" % t, "batch%d" % t, "diversity", "rack", tuple(sid[40:50])),
        ]
    return servers, groups


def hopeless():
    """101 servers of 3 VCPUs and 50 of 2 on 100 hosts of 5: room in total and for 2 servers per host,
    but no host takes two 3-VCPU servers. Hosts differ in memory, so no two are interchangeable."""
    hosts = [
        engine.Host("r%d-h%02d" % (i // 20, i % 20), "r%d" % (i // 20), {"VCPU": 5, "MEMORY_MB": 65536 + 512 * i})
        for i in range(100)
    ]
    big = [engine.Server("a%03d" % i, "a%03d" % i, {"VCPU": 3}) for i in range(101)]
    small = [engine.Server("b%03d" % i, "b%03d" % i, {"VCPU": 2}) for i in range(50)]
    return hosts, big + small, []


def timed(hosts, servers, groups):
    times, outcome = [], None
    for _ in range(REPEAT):
        start = time.perf_counter()
        try:
            result = engine.place(hosts, servers, groups)
            outcome = "placed, %d hosts reserved" % len(result.reserve)
        except engine.Unplaceable as e:
            outcome = "refused: %s" % e.explanation
        times.append(time.perf_counter() - start)
    return statistics.median(times), outcome


def main():
    print("valet-api engine plan times (median of %d runs)" % REPEAT)
    print(
        "machine: %s, %s, %d CPUs, load average %s, Python %s"
        % (
            platform.node(),
            platform.processor() or platform.machine(),
            os.cpu_count(),
            " ".join("%.2f" % x for x in os.getloadavg()),
            platform.python_version(),
        )
    )
    print("%8s %8s %6s %10s  %s" % ("servers", "hosts", "groups", "seconds", "outcome"))
    clouds = {n: make_cloud(n) for n in (100, 1000, 5000)}
    for n_servers in (10, 100, 1000):
        servers, groups = grid_plan(n_servers)
        for n_hosts, hosts in clouds.items():
            seconds, outcome = timed(hosts, servers, groups)
            print("%8d %8d %6d %10.3f  %s" % (n_servers, n_hosts, len(groups), seconds, outcome))
    servers, groups = hosts_only_plan(1000)
    seconds, outcome = timed(make_cloud(5000, racks=False), servers, groups)
    print("%8d %8d %6d %10.3f  %s  (no racks: each host its own)" % (1000, 5000, len(groups), seconds, outcome))
    servers, groups = goal_plan()
    seconds, outcome = timed(clouds[1000], servers, groups)
    print(
        "goal: %d servers in %d groups over 1000 hosts: %.3f s (goal < 0.5 s), %s"
        % (len(servers), len(groups), seconds, outcome)
    )
    seconds, outcome = timed(*hopeless())
    print("hopeless: 151 servers over 100 hosts, refused after the search budget: %.3f s, %s" % (seconds, outcome))
    print("load average after: %s" % " ".join("%.2f" % x for x in os.getloadavg()))


if __name__ == "__main__":
    main()
