"""Valet's placement engine: a whole plan onto the cloud's hosts at once, every group and capacity holding.

Pure: no I/O, no database, no clock, no randomness; the same inputs (in any order) give the same result.
docs/engine.md states the rules and the search; in short:

- Host-level affinity glues servers into blocks that take one host; rack-level affinity glues blocks into
  rack units that take one rack. Diversity keeps a group's members (a member group counts as one unit) on
  pairwise different hosts / racks. Exclusivity gives every server of the group a key (``exclusive_key``):
  a host (every host of a rack, at rack level) holding such a server is reserved under the key and holds
  nothing else; a host reserved under another key, or holding servers outside the key, is refused.
- ``Host.free`` and ``Host.servers`` describe the cloud without the servers of this call, fixed ones
  included. ``fixed`` servers (given in ``servers`` too, for their size) stay on their hosts: their sizes
  are taken from those hosts' free capacity and the rules hold for them too (a fixed server not in
  ``servers`` counts with size 0). ``Server.candidates`` (Nova's hosts, for a replan) restricts a server.
- The search places blocks depth first, most constrained first, over one host per class of interchangeable
  hosts (symmetry breaking, so it stays complete), backtracking on failure. Up to
  ``EXHAUSTIVE_HOSTS`` hosts and ``EXHAUSTIVE_SERVERS`` servers it is exhaustive; above, it gives up after
  ``SEARCH_BUDGET`` (+ ``BUDGET_PER_BLOCK`` per block) placements tried.

Malformed input (duplicate ids, unknown members or hosts, nesting cycles, unknown types or levels) raises
ValueError; a well-formed plan that cannot hold raises Unplaceable.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Mapping
from typing import Optional

RESOURCE_CLASSES = ("VCPU", "MEMORY_MB", "DISK_GB")
GROUP_TYPES = ("affinity", "diversity", "exclusivity")
LEVELS = ("host", "rack")
EXHAUSTIVE_HOSTS = 6
EXHAUSTIVE_SERVERS = 8
SEARCH_BUDGET = 20000
BUDGET_PER_BLOCK = 20
DIAGNOSED = 10  # blocks with no host at all whose reasons a refusal compares (smallest groups first)

# Why a host is refused to a block, in the order the explanation prefers them (most specific rule first).
_DIV = 0  # a diversity group's other member is there (host or rack)
_RACK_AFFINITY = 1  # the block's rack unit is already in another rack
_RACK_EXCL = 2  # the rack is (or would have to be) reserved under another key
_HOST_EXCL = 3  # the host is reserved under another key, or holds servers outside this block's key
_CAPACITY = 4
_MULTI = -1  # diversity tag of a server in several members of one group: it may share with no other member


@dataclasses.dataclass(frozen=True)
class Host:
    name: str
    rack: str
    free: Mapping[str, int]  # capacity left per resource class
    servers: int = 0  # servers on it now (any project / source), none of this call's
    exclusive: Optional[str] = None  # exclusivity key holding it, if any


@dataclasses.dataclass(frozen=True)
class Server:
    id: str
    name: str
    size: Mapping[str, int]
    candidates: Optional[frozenset] = None  # Nova's hosts for a replan


@dataclasses.dataclass(frozen=True)
class Group:
    id: str
    name: str
    type: str  # affinity | diversity | exclusivity
    level: str  # host | rack
    members: tuple  # server ids and/or group ids (nesting)
    exclusive_key: Optional[str] = None  # exclusivity: the key hosts are reserved under (default: the name)


class Unplaceable(Exception):
    """The plan cannot be placed; .explanation names the group and the rule that cannot hold."""

    def __init__(self, explanation):
        super().__init__(explanation)
        self.explanation = explanation


@dataclasses.dataclass
class Result:
    hosts: dict  # server id -> host, for every server asked
    reserve: dict  # host -> exclusive key, reservations this result adds


def place(hosts, servers, groups, fixed=None):
    """Place every server of ``servers`` (those in ``fixed`` stay where they are); see the module doc."""
    return _Plan(hosts, servers, groups, fixed or {}).solve()


def _key_of(group):
    return group.exclusive_key or group.name


def _amounts(size, classes):
    return ", ".join("%s %d" % (c, size[i]) for i, c in enumerate(classes) if size[i])


class _Block:
    """Plan servers that must share one host (host-level affinity), placed as one unit."""

    __slots__ = ("servers", "name", "n", "size", "needs", "key", "rack_excl", "cands", "pin", "unit", "hdiv", "rdiv")


class _Plan:
    def __init__(self, hosts, servers, groups, fixed):
        self.hosts = sorted(hosts, key=lambda h: (h.rack, h.name))
        self.host = {h.name: h for h in self.hosts}
        if len(self.host) != len(self.hosts):
            raise ValueError("duplicate host names")
        self.asked = sorted(servers, key=lambda s: (s.name, s.id))
        self.server = {s.id: s for s in self.asked}
        if len(self.server) != len(self.asked):
            raise ValueError("duplicate server ids")
        self.fixed = dict(fixed)
        for sid, h in self.fixed.items():
            if h not in self.host:
                raise ValueError("server %s is fixed on unknown host %s" % (sid, h))
        self.groups = sorted(groups, key=lambda g: (g.name, g.id))
        self.group = {g.id: g for g in self.groups}
        if len(self.group) != len(self.groups):
            raise ValueError("duplicate group ids")
        known = set(self.server) | set(self.fixed)
        for g in self.groups:
            if g.type not in GROUP_TYPES:
                raise ValueError("group %r: type must be one of %s" % (g.name, ", ".join(GROUP_TYPES)))
            if g.level not in LEVELS:
                raise ValueError("group %r: level must be host or rack" % g.name)
            for m in g.members:
                if m not in self.group and m not in known:
                    raise ValueError("group %r: unknown member %s" % (g.name, m))
        self._servers_memo = {}
        self.of = {g.id: self._servers_of(g.id, ()) for g in self.groups}  # group id -> its servers
        self.new = [s for s in self.asked if s.id not in self.fixed]
        sizes = [s.size for s in self.asked]
        extra = sorted({c for size in sizes for c in size} - set(RESOURCE_CLASSES))
        self.classes = RESOURCE_CLASSES + tuple(extra)

    def _servers_of(self, gid, path):
        if gid in path:
            raise ValueError("group %r contains itself" % self.group[gid].name)
        if gid not in self._servers_memo:
            out = set()
            for m in self.group[gid].members:
                out |= self._servers_of(m, path + (gid,)) if m in self.group else {m}
            self._servers_memo[gid] = frozenset(out)
        return self._servers_memo[gid]

    # -- describing ------------------------------------------------------------------------

    def _sname(self, sid):
        s = self.server.get(sid)
        return s.name if s is not None else sid

    @staticmethod
    def _gdesc(g):
        if g.type == "exclusivity":
            return "exclusivity group %r%s" % (g.name, " (level rack)" if g.level == "rack" else "")
        return "%s group %r (level %s)" % (g.type, g.name, g.level)

    def _groups_with(self, sids, kind, level=None):
        """Groups of kind (and level) holding any of sids, largest first, then by name."""
        found = [
            g for g in self.groups if g.type == kind and (level is None or g.level == level) and self.of[g.id] & sids
        ]
        return sorted(found, key=lambda g: (-len(self.of[g.id]), g.name))

    def _label(self, sids):
        """A server, named with its smallest group (the most specific one)."""
        sid = min(sids, key=lambda s: (self._sname(s), s))
        holding = sorted((g for g in self.groups if sid in self.of[g.id]), key=lambda g: (len(self.of[g.id]), g.name))
        if holding:
            return "server %r (group %r)" % (self._sname(sid), holding[0].name)
        return "server %r" % self._sname(sid)

    # -- preparing -------------------------------------------------------------------------

    def solve(self):
        self._prepare_servers()
        self._prepare_blocks()
        self._prepare_state()
        self._place_fixed()
        self._prepare_classes()
        self._check_root()
        self._search()
        hosts = {s.id: self.fixed.get(s.id) or self.where[s.id] for s in self.asked}
        return Result(hosts=hosts, reserve=self._reservations())

    def _prepare_servers(self):
        """Each server's exclusivity key, rack-level exclusivity and diversity tags."""
        everyone = set(self.server) | set(self.fixed)
        self.key = dict.fromkeys(everyone)
        self.rack_excl = dict.fromkeys(everyone, False)
        holder = {}
        for g in self.groups:
            if g.type != "exclusivity":
                continue
            for sid in self.of[g.id]:
                if self.key[sid] is not None and self.key[sid] != _key_of(g):
                    other = holder[sid]
                    raise Unplaceable(
                        "exclusivity groups %r and %r: server %r is in both, and a host holds one key only"
                        % (other.name, g.name, self._sname(sid))
                    )
                self.key[sid], holder[sid] = _key_of(g), g
                self.rack_excl[sid] = self.rack_excl[sid] or g.level == "rack"
        # diversity: tag[(group id, server)] = the index of the one member holding the server (or _MULTI)
        self.tag = {}
        self.diversity = [g for g in self.groups if g.type == "diversity"]
        for g in self.diversity:
            seen = {}
            for i, m in enumerate(g.members):
                for sid in self.of[m] if m in self.group else {m}:
                    seen[sid] = i if sid not in seen or seen[sid] == i else _MULTI
            for sid, t in seen.items():
                self.tag[(g.id, sid)] = t
        self.divs = {s: [] for s in everyone}  # server -> [(diversity group, tag)], in group order
        for g in self.diversity:
            for sid in sorted(self.of[g.id]):
                self.divs[sid].append((g, self.tag[(g.id, sid)]))

    def _prepare_blocks(self):
        everyone = sorted(set(self.server) | set(self.fixed))
        host_uf = {s: s for s in everyone}
        rack_uf = {s: s for s in everyone}

        def find(uf, s):
            while uf[s] != s:
                uf[s] = uf[uf[s]]
                s = uf[s]
            return s

        for g in self.groups:
            if g.type != "affinity":
                continue
            members = sorted(self.of[g.id])
            for a, b in zip(members, members[1:]):
                for uf in (rack_uf,) if g.level == "rack" else (host_uf, rack_uf):
                    ra, rb = find(uf, a), find(uf, b)
                    if ra != rb:
                        uf[max(ra, rb)] = min(ra, rb)
        host_sets, rack_sets = {}, {}
        for s in everyone:
            host_sets.setdefault(find(host_uf, s), set()).add(s)
            rack_sets.setdefault(find(rack_uf, s), set()).add(s)
        for sids in host_sets.values():
            self._check_together(sids, "host")
        for sids in rack_sets.values():
            self._check_together(sids, "rack")
        self.unit_of = {s: find(rack_uf, s) for s in everyone}
        self.unit_rack = {}  # rack unit -> rack its fixed servers are in
        for s, h in sorted(self.fixed.items()):
            self.unit_rack[self.unit_of[s]] = self.host[h].rack
        self.blocks = []
        self.unit_blocks = {}
        for sids in host_sets.values():
            new = sorted((s for s in sids if s not in self.fixed), key=lambda s: (self._sname(s), s))
            if not new:
                continue
            b = _Block()
            b.servers = new
            b.name = (self._sname(new[0]), new[0])
            b.n = len(new)
            b.size = tuple(sum(self.server[s].size.get(c, 0) for s in new) for c in self.classes)
            b.needs = tuple((i, v) for i, v in enumerate(b.size) if v > 0)
            b.key = self.key[new[0]]
            b.rack_excl = any(self.rack_excl[s] for s in sids)
            cands = [self.server[s].candidates for s in new if self.server[s].candidates is not None]
            b.cands = frozenset.intersection(*map(frozenset, cands)) if cands else None
            pins = {self.fixed[s] for s in sids if s in self.fixed}
            b.pin = pins.pop() if pins else None
            b.unit = self.unit_of[new[0]]
            b.hdiv = self._tags(sids, "host")
            # only blocks holding a diversity group's servers occupy a rack for it: the rest of a
            # rack unit follows them (_check_together made sure the unit's members agree)
            b.rdiv = self._tags(sids, "rack")
            self.blocks.append(b)
            self.unit_blocks.setdefault(b.unit, []).append(b)

    def _tags(self, sids, level):
        """(diversity group id, tag) for each diversity group of level holding servers of sids."""
        tags = {}
        for s in sids:
            for g, tag in self.divs[s]:
                if g.level == level:
                    tags.setdefault((g.name, g.id), set()).add(tag)
        return tuple((gid, ts.pop()) for (_name, gid), ts in sorted(tags.items()))

    def _check_together(self, sids, level):
        """Servers that affinity puts on one host / rack: no rule may want them apart."""
        if len(sids) == 1:
            return

        def glue():
            via = self._groups_with(sids, "affinity", None if level == "rack" else "host")
            return ("affinity group %r" % via[0].name) if via else "affinity"

        pins = {self.fixed[s] for s in sids if s in self.fixed}
        pins = sorted(pins if level == "host" else {self.host[h].rack for h in pins})
        if len(pins) > 1:
            via = self._groups_with(sids, "affinity", None if level == "rack" else "host")
            raise Unplaceable(
                "%s: its servers are already on different %ss (%s)"
                % (self._gdesc(via[0]) if via else "affinity", level, ", ".join(pins))
            )
        holding = {}
        for s in sids:
            for g, tag in self.divs[s]:
                if g.level == level:
                    holding.setdefault((g.name, g.id), []).append((s, tag))
        for (_name, gid), pairs in sorted(holding.items()):
            g = self.group[gid]
            together = sorted(s for s, _tag in pairs)
            tags = {tag for _s, tag in pairs}
            if len(together) > 1 and (len(tags) > 1 or _MULTI in tags):
                raise Unplaceable(
                    "diversity group %r (level %s): its members must be on different %ss, but %s puts %s on one %s"
                    % (g.name, level, level, glue(), ", ".join(repr(self._sname(s)) for s in together), level)
                )
        keys = {self.key[s] for s in sids}
        excl = {self.key[s] for s in sids if level == "host" or self.rack_excl[s]}
        if len(keys) > 1 and excl - {None}:
            k = sorted(excl - {None})[0]
            g = next(g for g in self._groups_with(sids, "exclusivity") if _key_of(g) == k)
            outside = sorted(s for s in sids if self.key[s] != k)
            raise Unplaceable(
                "%s: %s puts %s, not in it, on its %s"
                % (self._gdesc(g), glue(), ", ".join(repr(self._sname(s)) for s in outside), level)
            )

    # -- state -----------------------------------------------------------------------------

    def _prepare_state(self):
        self.overfull = set()
        self.racks = sorted({h.rack for h in self.hosts})
        self.rack_hosts = {r: [] for r in self.racks}
        for h in self.hosts:
            self.rack_hosts[h.rack].append(h.name)
        self.free = {h.name: [h.free.get(c, 0) for c in self.classes] for h in self.hosts}
        # keys of what each host holds (None: servers outside any exclusivity); a reservation counts as held
        self.host_keys = {}
        self.rack_keys = {r: {} for r in self.racks}
        self.rack_claim = {r: {} for r in self.racks}  # rack-level exclusivity keys using the rack
        for h in self.hosts:
            others = max(0, h.servers)
            keys = {}
            if h.exclusive is not None:
                keys[h.exclusive] = 1 + others
            elif others:
                keys[None] = others
            self.host_keys[h.name] = keys
            for k, v in keys.items():
                _add(self.rack_keys[h.rack], k, v)
        self.occ = {}  # (diversity group id, host or rack) -> [tag, servers]
        self.unit_at = dict(self.unit_rack)  # rack unit -> its rack
        self.where = {}
        self.touched = {r: [] for r in self.racks}  # hosts holding plan servers, per rack, in order
        self.touched_racks = []  # racks holding plan servers, in order
        self.touch = {}

    def _fixed_block(self, sid):
        b = _Block()
        b.servers, b.name, b.n = [sid], (self._sname(sid), sid), 1
        size = self.server[sid].size if sid in self.server else {}
        b.size = tuple(size.get(c, 0) for c in self.classes)
        b.needs = tuple((i, v) for i, v in enumerate(b.size) if v > 0)
        b.key, b.rack_excl, b.cands = self.key[sid], self.rack_excl[sid], None
        b.pin, b.unit = self.fixed[sid], self.unit_of[sid]
        b.hdiv, b.rdiv = self._tags({sid}, "host"), self._tags({sid}, "rack")
        return b

    def _place_fixed(self):
        for sid, h in sorted(self.fixed.items()):
            b = self._fixed_block(sid)
            causes = self._causes(b, h)
            causes.discard(_RACK_AFFINITY)  # fixed servers of one unit share a rack (checked in _check_together)
            causes.discard(_CAPACITY)  # they are there already: only new servers need room
            if causes:
                raise Unplaceable(self._fixed_broken(b, h, sorted(causes, key=_cause_order)[0]))
            self._do(b, h)
        # a host already over its capacity (by its fixed servers, or overcommitted) takes no more servers:
        # capacity holds for all the servers it is given
        self.overfull = {h for h, free in self.free.items() if any(v < 0 for v in free)}

    def _fixed_broken(self, b, h, cause):
        """The rule a server already on host h breaks there."""
        sname = self._sname(b.servers[0])
        if isinstance(cause, tuple):
            g = self.group[cause[1]]
            return "%s: server %r is already on host %s, in the same %s as another of its members" % (
                self._gdesc(g),
                sname,
                h,
                g.level,
            )
        if b.key is None:
            return "server %r is already on host %s, which an exclusivity group holds" % (sname, h)
        level = "rack" if cause == _RACK_EXCL else "host"
        return "%s: server %r is already on host %s, whose %s holds servers outside it" % (
            self._cause_group(b, cause),
            sname,
            h,
            level,
        )

    def _prepare_classes(self):
        """Per rack, untouched hosts in classes of interchangeable ones; the search tries one of each."""
        sig = {}
        for i, b in enumerate(self.blocks):
            if b.cands is not None:
                for h in b.cands:
                    sig.setdefault(h, []).append(i)
        self.cls = {}
        for r in self.racks:
            classes = {}
            for name in self.rack_hosts[r]:
                if name in self.touch:
                    continue
                h = self.host[name]
                k = (tuple(self.free[name]), h.servers, h.exclusive, tuple(sig.get(name, ())))
                classes.setdefault(k, []).append(name)
            # occupied and reserved hosts first: plain servers fill them and leave empty hosts to exclusivity
            order = sorted(classes.items(), key=lambda kv: (kv[0][1] == 0 and kv[0][2] is None, kv[1][0]))
            self.cls[r] = [hs for _k, hs in order]

    # -- checks ----------------------------------------------------------------------------

    def _rack_cause(self, b, r):
        at = self.unit_at.get(b.unit)
        if at is not None and at != r:
            return _RACK_AFFINITY
        for gid, tag in b.rdiv:
            o = self.occ.get((gid, r))
            if o is not None and (o[0] != tag or tag == _MULTI):
                return (_DIV, gid)
        claim = self.rack_claim[r]
        if claim and (len(claim) > 1 or b.key not in claim):
            return _RACK_EXCL
        if b.rack_excl:
            keys = self.rack_keys[r]
            if keys and (len(keys) > 1 or b.key not in keys):
                return _RACK_EXCL
        return None

    def _host_cause(self, b, h):
        if h in self.overfull:
            return _CAPACITY
        keys = self.host_keys[h]
        if keys and (len(keys) > 1 or b.key not in keys):
            return _HOST_EXCL
        for gid, tag in b.hdiv:
            o = self.occ.get((gid, h))
            if o is not None and (o[0] != tag or tag == _MULTI):
                return (_DIV, gid)
        free = self.free[h]
        for i, v in b.needs:
            if free[i] < v:
                return _CAPACITY
        return None

    def _causes(self, b, h):
        """Every rule that refuses host h to block b (for explanations; the search stops at the first)."""
        out = set()
        r = self.host[h].rack
        at = self.unit_at.get(b.unit)
        if at is not None and at != r:
            out.add(_RACK_AFFINITY)
        for gid, tag in b.rdiv:
            o = self.occ.get((gid, r))
            if o is not None and (o[0] != tag or tag == _MULTI):
                out.add((_DIV, gid))
        claim, keys = self.rack_claim[r], self.rack_keys[r]
        if (claim and (len(claim) > 1 or b.key not in claim)) or (
            b.rack_excl and keys and (len(keys) > 1 or b.key not in keys)
        ):
            out.add(_RACK_EXCL)
        keys = self.host_keys[h]
        if keys and (len(keys) > 1 or b.key not in keys):
            out.add(_HOST_EXCL)
        for gid, tag in b.hdiv:
            o = self.occ.get((gid, h))
            if o is not None and (o[0] != tag or tag == _MULTI):
                out.add((_DIV, gid))
        if h in self.overfull or any(self.free[h][i] < v for i, v in b.needs):
            out.add(_CAPACITY)
        return out

    # -- moves -----------------------------------------------------------------------------

    def _do(self, b, h):
        r = self.host[h].rack
        free = self.free[h]
        for i, v in b.needs:
            free[i] -= v
        _add(self.host_keys[h], b.key, b.n)
        _add(self.rack_keys[r], b.key, b.n)
        if b.rack_excl:
            _add(self.rack_claim[r], b.key, 1)
        for gid, tag in b.hdiv:
            _occupy(self.occ, (gid, h), tag, b.n)
        for gid, tag in b.rdiv:
            _occupy(self.occ, (gid, r), tag, b.n)
        set_unit = b.unit not in self.unit_at
        if set_unit:
            self.unit_at[b.unit] = r
        if h not in self.touch:
            self.touch[h] = 0
            if not self.touched[r]:
                self.touched_racks.append(r)
            self.touched[r].append(h)
        self.touch[h] += 1
        for s in b.servers:
            self.where[s] = h
        return set_unit

    def _undo(self, b, h, set_unit):
        r = self.host[h].rack
        free = self.free[h]
        for i, v in b.needs:
            free[i] += v
        _add(self.host_keys[h], b.key, -b.n)
        _add(self.rack_keys[r], b.key, -b.n)
        if b.rack_excl:
            _add(self.rack_claim[r], b.key, -1)
        for gid, _tag in b.hdiv:
            _occupy(self.occ, (gid, h), None, -b.n)
        for gid, _tag in b.rdiv:
            _occupy(self.occ, (gid, r), None, -b.n)
        if set_unit:
            del self.unit_at[b.unit]
        self.touch[h] -= 1
        if not self.touch[h]:
            del self.touch[h]
            self.touched[r].pop()  # moves are undone in reverse order: h is the last touched there
            if not self.touched[r]:
                self.touched_racks.pop()
        for s in b.servers:
            del self.where[s]

    def _options(self, b, whole_unit=True):
        """Hosts block b may take now, in the search's order, one per class of interchangeable hosts."""
        if b.pin is not None or b.cands is not None:
            for h in self._domain(b):
                if self._rack_cause(b, self.host[h].rack) is None and self._host_cause(b, h) is None:
                    yield h
            return
        at = self.unit_at.get(b.unit)
        unit = self.unit_blocks[b.unit]
        if at is not None:
            racks = [at]
        else:  # racks already holding plan servers first: the plan stays together
            racks = itertools.chain(list(self.touched_racks), (r for r in self.racks if not self.touched[r]))
        for r in racks:
            if self._rack_cause(b, r) is not None:
                continue
            if whole_unit and at is None and len(unit) > 1 and not self._rack_room(unit, r):
                continue  # the rest of the rack unit could not follow it there
            for h in list(self.touched[r]):
                if self._host_cause(b, h) is None:
                    yield h
            for hosts in self.cls[r]:
                pos = self._class_pos(hosts)
                if pos < len(hosts) and self._host_cause(b, hosts[pos]) is None:
                    yield hosts[pos]

    def _domain(self, b):
        """The hosts a pinned block, or one with Nova's candidates, is restricted to."""
        if b.pin is not None:
            return [b.pin] if b.cands is None or b.pin in b.cands else []
        return sorted((h for h in b.cands if h in self.host), key=lambda n: (self.host[n].rack, n))

    def _class_pos(self, hosts):
        # the first host of the class not touched yet (touched ones leave their class in name order)
        pos = 0
        while pos < len(hosts) and hosts[pos] in self.touch:
            pos += 1
        return pos

    # -- root checks -----------------------------------------------------------------------

    def _check_root(self):
        """Cheap necessary conditions, so a hopeless plan is refused with the most specific reason."""
        failures = []  # (servers of the named group, explanation)
        smallest = {}  # server -> servers of its smallest group: the most specific explanation names it
        for g in self.groups:
            for s in self.of[g.id]:
                smallest[s] = min(smallest.get(s, len(self.of[g.id])), len(self.of[g.id]))
        stuck = [b for b in self.blocks if next(self._options(b, whole_unit=False), None) is None]
        stuck.sort(key=lambda b: (min(smallest.get(s, 1) for s in b.servers), b.name))
        for b in stuck[:DIAGNOSED]:  # a diagnosis reads every host: a hopeless plan is not read whole
            failures.append(self._diagnose(b))
        units = {}
        for b in self.blocks:
            units.setdefault(b.unit, []).append(b)
        stuck_units = {b.unit for b in stuck}
        for unit, blocks in sorted(units.items()):
            if unit in stuck_units:
                continue  # a block of it has no host at all: that says more
            if len(blocks) > 1 and unit not in self.unit_at and not any(b.pin or b.cands for b in blocks):
                if not any(self._rack_room(blocks, r) for r in self.racks):
                    g = self._groups_with(set().union(*(b.servers for b in blocks)), "affinity", "rack")
                    if g:
                        n = len(self.of[g[0].id])
                        failures.append((n, "%s: no rack has room for its %d servers" % (self._gdesc(g[0]), n)))
        by_group = {}
        for b in self.blocks:
            for gid, tag in b.hdiv + b.rdiv:
                by_group.setdefault(gid, []).append((tag, b))
        for g in self.diversity:
            failures.extend(self._diversity_count(g, by_group.get(g.id, ())))
        total = [sum(b.size[i] for b in self.blocks) for i in range(len(self.classes))]
        have = [sum(max(0, f[i]) for f in self.free.values()) for i in range(len(self.classes))]
        short = [c for i, c in enumerate(self.classes) if total[i] > have[i]]
        if short and not failures:
            failures.append(
                (
                    len(self.new),
                    "the plan's %d servers need %s, the cloud has %s free"
                    % (
                        len(self.new),
                        ", ".join("%s %d" % (c, total[self.classes.index(c)]) for c in short),
                        ", ".join("%s %d" % (c, have[self.classes.index(c)]) for c in short),
                    ),
                )
            )
        for i, c in enumerate(self.classes):
            least = min((b.size[i] for b in self.blocks), default=0)
            slots = sum(max(0, f[i]) // least for f in self.free.values()) if least else len(self.blocks)
            if slots < len(self.blocks) and not failures:
                failures.append(
                    (
                        len(self.new),
                        "the plan's %d servers do not fit: %d separate placements need %s %d or more each, "
                        "the hosts have room for %d" % (len(self.new), len(self.blocks), c, least, slots),
                    )
                )
        if failures:
            raise Unplaceable(min(failures)[1])

    def _rack_room(self, blocks, r):
        """Could rack r take this rack unit? Necessary conditions only, so pruning by it loses no placement:
        the rules allow the rack, every block has a host there, the hosts have room in total and room for
        as many blocks as the unit has, and each member of a host-level diversity group a host of its own."""
        if any(self._rack_cause(b, r) is not None for b in blocks):
            return False
        n = len(self.classes)
        need = [sum(b.size[i] for b in blocks) for i in range(n)]
        least = [min(b.size[i] for b in blocks) for i in range(n)]
        room, slots = [0] * n, [0] * n
        fits = [set() for _block in blocks]
        for h in self.rack_hosts[r]:
            usable = False
            for k, b in enumerate(blocks):
                c = self._host_cause(b, h)
                if c is None:
                    fits[k].add(h)
                    usable = True
                elif c == _CAPACITY:
                    usable = True
            if usable:
                for i, v in enumerate(self.free[h]):
                    if v > 0:
                        room[i] += v
                        slots[i] += v // least[i] if least[i] else 0
        if any(need[i] > room[i] or (least[i] and slots[i] < len(blocks)) for i in range(n)):
            return False
        if not all(fits):
            return False
        members = {}
        for k, b in enumerate(blocks):
            for gid, tag in b.hdiv:
                members.setdefault(gid, {}).setdefault(tag if tag != _MULTI else id(b), set()).update(fits[k])
        return all(len(set().union(*m.values())) >= len(m) for m in members.values())

    def _diversity_count(self, g, tagged):
        """Each member of a diversity group needs a host / rack of its own: are there enough?"""
        members = {}
        for tag, b in tagged:
            members.setdefault(tag if tag != _MULTI else ("multi", b.name), []).append(b)
        fixed_tags = {self.tag[(g.id, s)] for s in self.fixed if (g.id, s) in self.tag}
        pending = [m for m in members if m not in fixed_tags]
        if len(pending) < 2:
            return []
        places = set()
        for m in pending:
            b = max(members[m], key=lambda b: (b.n, b.name))
            for r in self.racks:
                if self._rack_cause(b, r) is not None:
                    continue
                for h in self.rack_hosts[r]:
                    if self._host_cause(b, h) is None:
                        places.add(h if g.level == "host" else r)
                        if g.level == "rack":
                            break
                if len(places) >= len(pending):
                    return []
        if len(places) >= len(pending):
            return []
        return [
            (
                len(self.of[g.id]),
                "%s: its %d members need %d different %ss, only %d can take them"
                % (self._gdesc(g), len(pending), len(pending), g.level, len(places)),
            )
        ]

    # -- search ----------------------------------------------------------------------------

    def _order(self):
        """Most constrained first: pinned, affinity units, exclusivity, most rules, largest; names break ties."""
        units = {}
        for b in self.blocks:
            units.setdefault(b.unit, []).append(b)
        scale = [max(1, max((max(0, f[i]) for f in self.free.values()), default=1)) for i in range(len(self.classes))]

        def weight(b):
            return sum(v / scale[i] for i, v in enumerate(b.size))

        holding = {}
        for g in self.groups:
            for s in self.of[g.id]:
                holding.setdefault(s, set()).add(g.id)

        def unit_rank(blocks):
            rules = len(set().union(*(holding.get(s, ()) for b in blocks for s in b.servers)))
            return (
                not any(b.pin or b.cands is not None for b in blocks),
                not any(b.unit in self.unit_rack for b in blocks),
                not (len(blocks) > 1 or any(b.n > 1 for b in blocks)),
                not any(b.key is not None for b in blocks),
                -rules,
                -sum(weight(b) for b in blocks),
                min(b.name for b in blocks),
            )

        order = []
        for blocks in sorted(units.values(), key=unit_rank):
            order.extend(
                sorted(
                    blocks,
                    key=lambda b: (
                        b.pin is None,
                        b.cands is None,
                        b.key is None,
                        -len(b.hdiv) - len(b.rdiv),
                        -b.n,
                        -weight(b),
                        b.name,
                    ),
                )
            )
        return order

    def _search(self):
        order = self._order()
        exhaustive = len(self.hosts) <= EXHAUSTIVE_HOSTS and len(self.new) <= EXHAUSTIVE_SERVERS
        budget = None if exhaustive else SEARCH_BUDGET + BUDGET_PER_BLOCK * len(order)
        iters, moves = [], []
        deepest = (-1, [])
        steps = 0
        i = 0
        while i < len(order):
            if len(iters) == i:
                iters.append(self._options(order[i]))
            h = next(iters[i], None)
            if h is None:
                if i > deepest[0]:
                    deepest = (i, [m[0] for m in moves])
                iters.pop()
                if not moves:
                    break
                i -= 1
                host, set_unit = moves.pop()
                self._undo(order[i], host, set_unit)
                continue
            steps += 1
            if budget is not None and steps > budget:
                prefix = "no placement found within the search budget (%d steps)" % budget
                if deepest[0] < 0:  # nothing failed yet: name where the search is
                    raise Unplaceable("%s; it was placing %s" % (prefix, self._label(order[i].servers)))
                while moves:
                    host, set_unit = moves.pop()
                    self._undo(order[len(moves)], host, set_unit)
                self._fail(order, deepest, prefix + "; where it got furthest: ")
            moves.append((h, self._do(order[i], h)))
            i += 1
        if i < len(order):
            self._fail(order, deepest, "")

    def _fail(self, order, deepest, prefix):
        """Explain why the block where the search got furthest found no host."""
        depth, hosts = deepest
        for b, h in zip(order, hosts):
            self._do(b, h)
        raise Unplaceable(prefix + self._diagnose(order[depth])[1])

    def _diagnose(self, b):
        """(servers of the named group, explanation) for a block with no host left."""
        if b.pin is not None:
            domain, where = self._domain(b), " on host %s, where its affinity partners already are" % b.pin
            if not domain:
                return b.n, "%s: Nova's candidate hosts (%s) leave out host %s, where its affinity partners are" % (
                    self._label(b.servers),
                    ", ".join(sorted(b.cands)),
                    b.pin,
                )
        elif b.cands is not None:
            domain = sorted(h for h in b.cands if h in self.host)
            where = " among Nova's candidate hosts (%s)" % ", ".join(sorted(b.cands))
            if not domain:
                known = ", ".join(sorted(b.cands))
                return b.n, "%s: none of Nova's candidate hosts (%s) is known" % (self._label(b.servers), known)
        else:
            domain, where = [h.name for h in self.hosts], ""
        causes = [self._causes(b, h) for h in domain]
        sole = {next(iter(c)) for c in causes if len(c) == 1}
        pool = sole or set().union(*causes) or {_CAPACITY}
        cause = sorted(pool, key=_cause_order)[0]
        n, text = self._explain(b, cause, any(_HOST_EXCL not in c for c in causes))
        return n, text + where

    def _cause_group(self, b, cause):
        if isinstance(cause, tuple):
            return self._gdesc(self.group[cause[1]])
        if cause == _RACK_AFFINITY:
            g = self._groups_with(set(b.servers), "affinity", "rack")
            return self._gdesc(g[0]) if g else "affinity"
        if cause in (_RACK_EXCL, _HOST_EXCL) and b.key is not None:
            g = [g for g in self._groups_with(set(b.servers), "exclusivity") if _key_of(g) == b.key]
            return self._gdesc(g[0])
        return self._label(b.servers)

    def _explain(self, b, cause, some_empty):
        sids = set(b.servers)
        if isinstance(cause, tuple):
            g = self.group[cause[1]]
            k = len(g.members)
            return len(self.of[g.id]), "%s: its %d members need %d different %ss that can take them" % (
                self._gdesc(g),
                k,
                k,
                g.level,
            )
        if cause == _RACK_AFFINITY:
            g = self._groups_with(sids, "affinity", "rack")
            if g:
                n = len(self.of[g[0].id])
                return n, "%s: no rack has room for its %d servers" % (self._gdesc(g[0]), n)
        if (cause == _HOST_EXCL or b.rack_excl) and b.key is not None:
            g = [g for g in self._groups_with(sids, "exclusivity") if _key_of(g) == b.key][0]
            n = len(self.of[g.id])
            level = "rack" if cause == _RACK_EXCL else "host"
            if cause == _HOST_EXCL and some_empty:
                return n, "%s: no empty host has room for its %d servers" % (self._gdesc(g), b.n)
            return n, "%s: no empty %s left" % (self._gdesc(g), level)
        if cause in (_RACK_EXCL, _HOST_EXCL):  # reserved by others (a rack, at rack level)
            return len(self.new), "%s: every host with room is reserved for an exclusivity group" % self._label(sids)
        if b.n > 1:
            g = self._groups_with(sids, "affinity", "host")
            n = len(self.of[g[0].id]) if g else b.n
            return n, "%s: no host has room for its %d servers (%s)" % (
                self._gdesc(g[0]) if g else "affinity",
                b.n,
                _amounts(b.size, self.classes),
            )
        return 1, "%s: no host has room for it (%s)" % (self._label(sids), _amounts(b.size, self.classes))

    def _reservations(self):
        reserve = {}
        for h in self.hosts:
            if h.exclusive is not None:
                continue
            keys = [k for k in self.host_keys[h.name] if k is not None]
            claim = list(self.rack_claim[h.rack])
            if keys or claim:
                reserve[h.name] = (keys or claim)[0]
        return reserve


def _cause_order(cause):
    return (cause, "") if isinstance(cause, int) else cause


def _add(counter, key, n):
    v = counter.get(key, 0) + n
    if v:
        counter[key] = v
    else:
        counter.pop(key, None)


def _occupy(occ, where, tag, n):
    o = occ.get(where)
    if o is None:
        occ[where] = [tag, n]
    elif o[1] + n:
        o[1] += n
    else:
        del occ[where]
