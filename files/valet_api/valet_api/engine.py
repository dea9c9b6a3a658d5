"""Placement engine (interim): a first-fit depth-first search with full backtracking.

Pure: no I/O, no clock, no randomness. Replaced by the real engine; the interface is the shared one.
hosts describe the cloud without the servers of `servers` (fixed ones included): the engine
counts the servers it is given, fixed ones on their hosts, against free capacity and rules.
"""

from dataclasses import dataclass
from dataclasses import field
from typing import Dict
from typing import FrozenSet
from typing import Mapping
from typing import Optional
from typing import Tuple

RESOURCE_CLASSES = ("VCPU", "MEMORY_MB", "DISK_GB")
GROUP_TYPES = ("affinity", "diversity", "exclusivity")
LEVELS = ("host", "rack")


@dataclass(frozen=True)
class Host:
    name: str
    rack: str
    free: Mapping[str, int]
    servers: int = 0
    exclusive: Optional[str] = None


@dataclass(frozen=True)
class Server:
    id: str
    name: str
    size: Mapping[str, int]
    candidates: Optional[FrozenSet[str]] = None


@dataclass(frozen=True)
class Group:
    id: str
    name: str
    type: str
    level: str
    members: Tuple[str, ...]
    exclusive_key: Optional[str] = None


class Unplaceable(Exception):
    def __init__(self, explanation):
        super().__init__(explanation)
        self.explanation = explanation


@dataclass
class Result:
    hosts: Dict[str, str] = field(default_factory=dict)
    reserve: Dict[str, str] = field(default_factory=dict)


def _servers_of(groups, member, seen=()):
    if member in groups:
        if member in seen:
            return set()
        out = set()
        for m in groups[member].members:
            out |= _servers_of(groups, m, seen + (member,))
        return out
    return {member}


def place(hosts, servers, groups, fixed=None):
    fixed = dict(fixed or {})
    by_name = {h.name: h for h in hosts}
    gmap = {g.id: g for g in groups}
    # For each group: its members as sets of server ids.
    units = {g.id: [_servers_of(gmap, m) for m in g.members] for g in groups}
    ids = [s.id for s in servers]
    sizes = {s.id: s.size for s in servers}
    where = {}
    used = {h.name: dict.fromkeys(RESOURCE_CLASSES, 0) for h in hosts}
    count = {h.name: 0 for h in hosts}
    reserved = {h.name: h.exclusive for h in hosts}
    keys_of = {
        sid: {g.exclusive_key for g in groups if g.type == "exclusivity" and any(sid in u for u in units[g.id])}
        for sid in ids
    }

    def loc(host, level):
        return by_name[host].rack if level == "rack" else host

    def fits(sid, host):
        h = by_name.get(host)
        if h is None:
            return False
        if any(used[host][c] + int(sizes[sid].get(c, 0)) > int(h.free.get(c, 0)) for c in RESOURCE_CLASSES):
            return False
        mine = keys_of[sid]
        if reserved[host] is not None and reserved[host] not in mine:
            return False
        if mine:
            if len(mine) > 1 and reserved[host] is None:
                return False
            if reserved[host] is None and (
                h.servers or any(where.get(o) == host and keys_of[o] != mine for o in where)
            ):
                return False
        for g in groups:
            gu = units[g.id]
            own = [u for u in gu if sid in u]
            if not own:
                continue
            if g.type == "exclusivity":
                # Hosts (racks) holding the group's servers hold no one else: also checked by reservations.
                if g.level == "rack":
                    rack = by_name[host].rack
                    for o, oh in where.items():
                        if loc(oh, "rack") == rack and g.exclusive_key not in keys_of[o]:
                            return False
                    if any(
                        x.rack == rack
                        and (x.servers or (x.exclusive not in (None, g.exclusive_key)))
                        and reserved[x.name] != g.exclusive_key
                        for x in hosts
                    ):
                        return False
                continue
            level = loc(host, g.level)
            for u in gu:
                placed = {loc(where[o], g.level) for o in u if o in where and o != sid}
                if g.type == "affinity":
                    if placed and placed != {level}:
                        return False
                elif u not in own and level in placed:
                    return False
            if g.type == "affinity":
                allp = {loc(where[o], g.level) for u in gu for o in u if o in where and o != sid}
                if allp and allp != {level}:
                    return False
        # A foreign server on a host (rack) an exclusivity group holds.
        for g in groups:
            if g.type == "exclusivity" and g.level == "rack" and g.exclusive_key not in keys_of[sid]:
                if any(
                    g.exclusive_key in keys_of[o] and loc(oh, "rack") == by_name[host].rack for o, oh in where.items()
                ):
                    return False
        return True

    def put(sid, host):
        where[sid] = host
        count[host] += 1
        for c in RESOURCE_CLASSES:
            used[host][c] += int(sizes[sid].get(c, 0))
        previous = reserved[host]
        if keys_of[sid] and previous is None:
            reserved[host] = next(iter(keys_of[sid]))
        return previous

    def take(sid, host, previous):
        del where[sid]
        count[host] -= 1
        for c in RESOURCE_CLASSES:
            used[host][c] -= int(sizes[sid].get(c, 0))
        reserved[host] = previous

    order = [sid for sid in ids if sid in fixed] + sorted(
        (sid for sid in ids if sid not in fixed), key=lambda sid: (not keys_of[sid], sid)
    )
    for sid in order:
        if sid in fixed:
            put(sid, fixed[sid])
    todo = [sid for sid in order if sid not in fixed]
    cands = {s.id: [h.name for h in hosts if s.candidates is None or h.name in s.candidates] for s in servers}

    def search(i):
        if i == len(todo):
            return True
        sid = todo[i]
        for host in cands[sid]:
            if fits(sid, host):
                previous = put(sid, host)
                if search(i + 1):
                    return True
                take(sid, host, previous)
        return False

    if not search(0):
        names = [g for g in groups if any(s in _servers_of(gmap, g.id) for s in todo)]
        if names:
            g = names[0]
            raise Unplaceable(
                "group %s (%s at %s level) cannot hold on the hosts with room" % (g.name, g.type, g.level)
            )
        raise Unplaceable("not enough free capacity for servers %s" % ", ".join(sorted(todo)))
    reserve = {h: k for h, k in reserved.items() if k is not None and by_name[h].exclusive != k}
    return Result(hosts={sid: where[sid] for sid in ids}, reserve=reserve)
