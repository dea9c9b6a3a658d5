"""Property tests of valet_api.engine against an independent reading of the rules.

`violations` and `brute_force` below are written from the rules as docs/engine.md states them, not from
the engine's code: every placement the engine returns must satisfy them, and on small clouds (up to 6 hosts,
8 servers) the engine refuses exactly the plans the exhaustive search finds no placement for.
"""

import itertools
import re

from hypothesis import HealthCheck
from hypothesis import event
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from valet_api import engine

CLASSES = ("VCPU", "MEMORY_MB", "DISK_GB")
KEYS = ("p:db", "p:cache")


# -- the oracle --------------------------------------------------------------------------------


class Cloud:
    """One problem, with the facts the oracle needs spelled out plainly."""

    def __init__(self, hosts, servers, groups, fixed):
        self.hosts = {h.name: h for h in hosts}
        self.servers = {s.id: s for s in servers}
        self.groups = {g.id: g for g in groups}
        self.fixed = dict(fixed)
        self.rack_hosts = {}
        for h in hosts:
            self.rack_hosts.setdefault(h.rack, []).append(h.name)
        self.members = {gid: [self.expand(m) for m in g.members] for gid, g in self.groups.items()}
        self.all = {gid: set().union(*ms) if ms else set() for gid, ms in self.members.items()}
        self.keys = {s: set() for s in set(self.servers) | set(self.fixed)}
        for gid, g in self.groups.items():
            if g.type == "exclusivity":
                for s in self.all[gid]:
                    self.keys[s].add(g.exclusive_key or g.name)
        self.strangers = {n: h.servers for n, h in self.hosts.items()}  # servers of no plan given here

    def expand(self, member):
        if member in self.groups:
            return set().union(*(self.expand(m) for m in self.groups[member].members))
        return {member}

    def loc(self, host, level):
        return host if level == "host" else self.hosts[host].rack

    def violations(self, where):
        """Rules broken by the (possibly partial) assignment where: {server id: host}, fixed included."""
        out = []
        for gid, g in self.groups.items():
            placed = [s for s in sorted(self.all[gid]) if s in where]
            if g.type == "affinity" and len({self.loc(where[s], g.level) for s in placed}) > 1:
                out.append("affinity %s" % g.name)
            elif g.type == "diversity":
                for i, j in itertools.combinations(range(len(self.members[gid])), 2):
                    for a in self.members[gid][i]:
                        for b in self.members[gid][j]:
                            if a != b and a in where and b in where:
                                if self.loc(where[a], g.level) == self.loc(where[b], g.level):
                                    out.append("diversity %s: %s %s" % (g.name, a, b))
            elif g.type == "exclusivity":
                key = g.exclusive_key or g.name
                for loc in {self.loc(where[s], g.level) for s in placed}:
                    for h in [loc] if g.level == "host" else self.rack_hosts[loc]:
                        out.extend(self._exclusive_host(h, key, where, g.name))
        for s, h in where.items():
            reserved = self.hosts[h].exclusive
            if reserved is not None and self.keys[s] != {reserved}:
                out.append("server %s on host %s reserved for %s" % (s, h, reserved))
        for name, h in self.hosts.items():
            here = [s for s, x in where.items() if x == name]
            if all(s in self.fixed for s in here):
                continue  # fixed servers are there already, room or not; new ones need room for all
            for c in set(CLASSES) | {c for s in self.servers.values() for c in s.size}:
                used = sum(self.servers[s].size.get(c, 0) for s in here if s in self.servers)
                if used > h.free.get(c, 0):
                    out.append("capacity %s %s" % (name, c))
        for s, h in where.items():
            if s in self.fixed and self.fixed[s] != h:
                out.append("fixed %s moved" % s)
            cands = self.servers[s].candidates if s in self.servers and s not in self.fixed else None
            if cands is not None and h not in cands:
                out.append("candidates %s" % s)
        return out

    def _exclusive_host(self, h, key, where, name):
        host = self.hosts[h]
        if host.exclusive not in (None, key):
            yield "exclusivity %s: host %s reserved for %s" % (name, h, host.exclusive)
        if host.exclusive is None and self.strangers[h]:
            yield "exclusivity %s: host %s holds other servers" % (name, h)
        for s, x in where.items():
            if x == h and self.keys[s] != {key}:
                yield "exclusivity %s: server %s on host %s" % (name, s, h)

    def reservations(self, where):
        """Hosts the placement reserves: every host (rack) an exclusivity group uses, not reserved yet."""
        out = {}
        for gid, g in self.groups.items():
            if g.type != "exclusivity":
                continue
            for s in self.all[gid]:
                if s in where:
                    loc = self.loc(where[s], g.level)
                    for h in [loc] if g.level == "host" else self.rack_hosts[loc]:
                        if self.hosts[h].exclusive is None:
                            out[h] = g.exclusive_key or g.name
        return out

    def brute_force(self):
        """Any assignment of the new servers satisfying every rule, by exhaustive depth-first search."""
        new = sorted(s for s in self.servers if s not in self.fixed)
        where = dict(self.fixed)
        if self.violations(where):
            return None

        def search(i):
            if i == len(new):
                return dict(where)
            for h in sorted(self.hosts):
                where[new[i]] = h
                if not self.violations(where):
                    found = search(i + 1)
                    if found:
                        return found
                del where[new[i]]
            return None

        return search(0)


# -- problems ----------------------------------------------------------------------------------


@st.composite
def problems(draw, max_hosts=6, max_servers=8, max_groups=4, roomy=False):
    """roomy: hosts with room and no reservations, so that most plans fit and the groups decide."""
    n_hosts = draw(st.integers(1, max_hosts))
    n_racks = draw(st.integers(1, max(1, min(3, n_hosts))))
    n_servers = draw(st.integers(1, max_servers))
    servers = []
    for i in range(n_servers):
        size = {"VCPU": draw(st.integers(0, 2)), "MEMORY_MB": draw(st.sampled_from([0, 512, 1024]))}
        if draw(st.booleans()):
            size["DISK_GB"] = draw(st.integers(0, 20))
        servers.append(engine.Server(id="s%d" % i, name="srv%d" % (i % 5), size=size))
    ids = [s.id for s in servers]
    groups = []
    for i in range(draw(st.integers(0, max_groups))):
        pool = ids + [g.id for g in groups]
        members = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True))
        kind = draw(st.sampled_from(["affinity", "affinity", "diversity", "diversity", "exclusivity"]))
        key = draw(st.sampled_from([KEYS[0], KEYS[0], KEYS[1], None])) if kind == "exclusivity" else None
        level = draw(st.sampled_from(engine.LEVELS))
        groups.append(engine.Group("g%d" % i, "grp%d" % i, kind, level, tuple(members), key))
    fixed = {}
    host_names = ["h%d" % i for i in range(n_hosts)]
    for s in draw(st.lists(st.sampled_from(ids), max_size=2, unique=True)) if draw(st.booleans()) else ():
        fixed[s] = draw(st.sampled_from(host_names))
    hosts = []
    for name in host_names:
        free = {
            "VCPU": draw(st.integers(-1, 5)) if draw(st.integers(0, 5)) == 0 and not roomy else draw(st.integers(2, 5)),
            "MEMORY_MB": draw(st.sampled_from([2048, 4096] if roomy else [0, 1024, 2048, 4096])),
            "DISK_GB": draw(st.sampled_from([20, 40] if roomy else [0, 20, 40])),
        }
        others = draw(st.integers(0, 2)) if draw(st.integers(0, 3)) == 0 else 0
        exclusive = draw(st.sampled_from(KEYS)) if draw(st.integers(0, 9)) == 0 and not roomy else None
        rack = "r%d" % draw(st.integers(0, n_racks - 1))
        hosts.append(engine.Host(name, rack, free, servers=others, exclusive=exclusive))
    if draw(st.integers(0, 4)) == 0:
        replanned = [s for s in servers if s.id not in fixed]
        if replanned:
            s = draw(st.sampled_from(replanned))
            pool = host_names + ["gone"] if draw(st.integers(0, 5)) == 0 else host_names
            cands = frozenset(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3)))
            servers = [engine.Server(x.id, x.name, x.size, cands) if x is s else x for x in servers]
    return hosts, servers, groups, fixed


def solve(problem):
    try:
        return engine.place(*problem)
    except engine.Unplaceable as e:
        assert e.explanation
        return e


def kind(result):
    """The outcome with names and numbers blanked (hypothesis statistics: which rules the runs refused on)."""
    if isinstance(result, engine.Unplaceable):
        return re.sub(r"'[^']*'|\d+|\(.*\)", "_", result.explanation)[:60]
    return "placed"


def names_something(problem, explanation):
    hosts, servers, groups, fixed = problem
    named = [repr(g.name) for g in groups] + [repr(s.name) for s in servers]
    return any(n in explanation for n in named) or explanation.startswith("the plan's ")


# -- properties --------------------------------------------------------------------------------


def agrees_with_brute_force(problem):
    cloud = Cloud(*problem)
    result = solve(problem)
    truth = cloud.brute_force()
    event(kind(result))
    if isinstance(result, engine.Unplaceable):
        assert truth is None, "engine refused (%s) but %s works" % (result.explanation, truth)
        assert names_something(problem, result.explanation), result.explanation
    else:
        assert truth is not None
        assert set(result.hosts) == set(s.id for s in problem[1])
        where = dict(problem[3], **result.hosts)
        assert cloud.violations(where) == []
        assert result.reserve == cloud.reservations(where)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_small_clouds_refused_only_when_exhaustive_search_finds_nothing(problem):
    agrees_with_brute_force(problem)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(roomy=True))
def test_small_roomy_clouds_refused_only_when_exhaustive_search_finds_nothing(problem):
    agrees_with_brute_force(problem)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.booleans().flatmap(lambda roomy: problems(max_hosts=40, max_servers=30, max_groups=8, roomy=roomy)))
def test_every_placement_satisfies_every_group_and_capacity(problem):
    cloud = Cloud(*problem)
    result = solve(problem)
    event("refused" if isinstance(result, engine.Unplaceable) else "placed")
    if isinstance(result, engine.Unplaceable):
        assert names_something(problem, result.explanation), result.explanation
        return
    where = dict(problem[3], **result.hosts)
    assert cloud.violations(where) == []
    assert result.reserve == cloud.reservations(where)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_hosts=12, max_servers=12), st.randoms(use_true_random=False))
def test_same_input_in_any_order_gives_the_same_result(problem, rnd):
    hosts, servers, groups, fixed = problem
    first = solve(problem)
    again = solve(problem)
    shuffled = [
        list(hosts),
        list(servers),
        [
            g.__class__(g.id, g.name, g.type, g.level, tuple(rnd.sample(g.members, len(g.members))), g.exclusive_key)
            for g in groups
        ],
    ]
    for part in shuffled:
        rnd.shuffle(part)
    fixed_shuffled = dict(rnd.sample(sorted(fixed.items()), len(fixed)))
    other = solve((*shuffled, fixed_shuffled))
    for r in (again, other):
        if isinstance(first, engine.Unplaceable):
            assert isinstance(r, engine.Unplaceable) and r.explanation == first.explanation
        else:
            assert r == first
