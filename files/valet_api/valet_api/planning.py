"""Plans and placements: a request's body becomes the engine's input, its answer becomes rows.

Every decision runs in one writer transaction that reads the hosts' generations first and
ends with a compare-and-set of the generation of every host it touched; another process
that changed one of them first makes it roll back and run again, fresh (bounded retries,
deadlocks included). Of two overlapping decisions on one host only one can commit.
A retry first takes the host rows' write locks: decisions that lost the optimistic race
take turns instead of racing again, so contention delays a plan but does not refuse it.
"""

import collections
import dataclasses
import itertools
import uuid as uuidlib

from oslo_db import api as oslo_db_api
from oslo_log import log as logging

from valet_api import cloud as cloud_mod
from valet_api import engine
from valet_api.db import api as db
from valet_api.errors import ApiError

LOG = logging.getLogger(__name__)

GROUP_ASSIGNMENT = "ATT::Valet::GroupAssignment"
CLAIM_COLUMNS = {"VCPU": "vcpu", "MEMORY_MB": "memory_mb", "DISK_GB": "disk_gb"}

# Tests turn this off to show the race it closes (tests/valet_api/test_concurrency.py).
COMPARE_AND_SET = True


class GenerationConflict(Exception):
    """Another decision changed a host this one read; the decision runs again."""


def new_id():
    return str(uuidlib.uuid4())


# -- validation -----------------------------------------------------------------------------


def is_text(value):
    return isinstance(value, str) and value != ""


def check_resources(resources):
    """400 unless resources is {uuid: {name, type, properties}} with valid groups; returns servers' uuids."""
    if not isinstance(resources, dict):
        raise ApiError(400, "resources must be a mapping of resource uuid to {name, type, properties}")
    servers = []
    for res_uuid, res in resources.items():
        if not isinstance(res, dict) or not is_text(res.get("type")):
            raise ApiError(400, "resource %s has no type" % res_uuid)
        if res.get("name") is not None and not isinstance(res["name"], str):
            raise ApiError(400, "resource %s: name must be a string" % res_uuid)
        props = res.get("properties")
        if props is not None and not isinstance(props, dict):
            raise ApiError(400, "resource %s: properties must be a mapping" % res_uuid)
        props = props or {}
        if res["type"] != GROUP_ASSIGNMENT:
            flavor = props.get("flavor")
            if not (is_text(flavor) or isinstance(flavor, int)):
                raise ApiError(400, "server %s (%s) has no flavor" % (res.get("name") or res_uuid, res_uuid))
            servers.append(res_uuid)
            continue
        if props.get("group_type") not in engine.GROUP_TYPES:
            raise ApiError(400, "resource %s: group_type must be one of %s" % (res_uuid, ", ".join(engine.GROUP_TYPES)))
        if props.get("level", "host") not in engine.LEVELS:
            raise ApiError(400, "resource %s: level must be host or rack" % res_uuid)
        name = props.get("group_name")
        if props["group_type"] == "exclusivity" and not is_text(name):
            raise ApiError(400, "resource %s: exclusivity needs a group_name" % res_uuid)
        if name is not None and not isinstance(name, str):
            raise ApiError(400, "resource %s: group_name must be a string" % res_uuid)
        members = props.get("resources") or []
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise ApiError(400, "resource %s: resources must be a list of resource uuids" % res_uuid)
        # A member that is not in the plan is no server of it (Heat's plugin names an OS::Heat::None,
        # or a nested stack whose servers that stack's own plan places): kept, never placed.
    _check_no_cycle(resources)
    return servers


def _check_no_cycle(resources):
    def members(u):
        res = resources.get(u)
        if res is None or res["type"] != GROUP_ASSIGNMENT:
            return []
        return (res.get("properties") or {}).get("resources") or []

    state = {}

    def visit(u):
        state[u] = "open"
        for m in members(u):
            if state.get(m) == "open":
                raise ApiError(400, "group %s contains itself" % u)
            if m not in state:
                visit(m)
        state[u] = "done"

    for u in resources:
        if u not in state:
            visit(u)


def registered_groups(session):
    return {g["name"]: g for g in db.group_rows(session)}


def build_groups(resources, project_id, registered):
    """engine.Group for each group assignment; 409 for an exclusivity group the project is not in."""
    out = []
    for res_uuid, res in resources.items():
        if res["type"] != GROUP_ASSIGNMENT:
            continue
        props = res.get("properties") or {}
        name = props.get("group_name") or res.get("name") or res_uuid
        key = None
        if props["group_type"] == "exclusivity":
            group = registered.get(name)
            if group is None:
                key = "%s:%s" % (project_id, name)
            elif project_id in group["members"]:
                key = "group:%s" % name
            else:
                raise ApiError(409, "project %s is not a member of exclusivity group %s" % (project_id, name))
        out.append(
            engine.Group(
                id=res_uuid,
                name=name,
                type=props["group_type"],
                level=props.get("level", "host"),
                members=tuple(props.get("resources") or ()),
                exclusive_key=key,
            )
        )
    return out


def among(groups, server_ids):
    """groups with members limited to these servers and the groups themselves.

    A server whose placement was deleted stays in its plan's resources: the engine is asked only
    about servers it is given.
    """
    known = set(server_ids) | {g.id for g in groups}
    return [dataclasses.replace(g, members=tuple(m for m in g.members if m in known)) for g in groups]


def exclusive_keys(groups):
    """server or group uuid -> the exclusivity key it holds hosts under (first by key)."""
    by_id = {g.id: g for g in groups}

    def servers(member, seen=()):
        if member not in by_id:
            return {member}
        if member in seen:
            return set()
        out = set()
        for m in by_id[member].members:
            out |= servers(m, seen + (member,))
        return out

    keys = {}
    for g in sorted((g for g in groups if g.exclusive_key), key=lambda g: g.exclusive_key):
        for s in servers(g.id):
            keys.setdefault(s, g.exclusive_key)
    return keys


def sizes(cloud, resources, server_uuids):
    """server uuid -> size, from its flavor; 400 for a flavor the cloud does not know."""
    cache = {}
    out = {}
    for u in server_uuids:
        flavor = resources[u]["properties"]["flavor"]
        if flavor not in cache:
            try:
                cache[flavor] = cloud.flavor_size(flavor)
            except LookupError as exc:
                name = resources[u].get("name") or u
                raise ApiError(400, "server %s: unknown flavor %s (%s)" % (name, flavor, exc)) from None
            except cloud_mod.CloudError as exc:
                LOG.error("cannot read the size of flavor %s: %s", flavor, exc)
                raise ApiError(503, "cannot read flavor sizes from the cloud") from None
        out[u] = cache[flavor]
    return out


# -- the decision ---------------------------------------------------------------------------


def engine_hosts(cloud_hosts, rows, all_placements, plan_id):
    """The cloud's hosts as the engine sees them, without plan_id's own servers.

    Capacity: the cloud's free capacity counts booted servers; placements not yet confirmed
    by Nova (no resource_id) are claimed here. Servers: every placement counts.
    """
    claims = collections.defaultdict(collections.Counter)
    count = collections.Counter()
    for p in all_placements:
        if p["plan_id"] == plan_id:
            continue
        count[p["host"]] += 1
        if p["resource_id"] is None:
            for rc, col in CLAIM_COLUMNS.items():
                claims[p["host"]][rc] += p[col]
    out = []
    for h in cloud_hosts:
        row = rows.get(h.name) or {}
        out.append(
            engine.Host(
                name=h.name,
                rack=h.rack,
                free={rc: int(h.free.get(rc, 0)) - claims[h.name][rc] for rc in engine.RESOURCE_CLASSES},
                servers=h.servers + count[h.name],
                exclusive=row.get("exclusive") or h.exclusive,
            )
        )
    return out


def run_decision(database, attempt):
    """attempt(session, rows) -> (answer, {host: exclusive key it is left with}), CAS, retried."""
    tries = itertools.count()

    @oslo_db_api.wrap_db_retry(
        max_retries=database.retries,
        retry_on_deadlock=True,
        retry_interval=0.01,
        inc_retry_interval=True,
        max_retry_interval=0.2,
        jitter=True,
        exception_checker=lambda exc: isinstance(exc, GenerationConflict),
    )
    def once():
        with database.writer() as session:
            if next(tries):
                db.lock_hosts(session)
            rows = db.host_rows(session)
            answer, touched = attempt(session, rows)
            for name in sorted(touched):
                row = rows[name]
                if not db.set_host(session, name, row["generation"], touched[name], compare=COMPARE_AND_SET):
                    LOG.debug("host %s changed since generation %s: decision rolled back", name, row["generation"])
                    raise GenerationConflict(name)
        return answer

    try:
        return once()
    except GenerationConflict as exc:
        raise ApiError(409, "host %s kept changing under concurrent decisions; try again" % exc) from exc


def place(hosts, servers, groups, fixed=None):
    # A member that is neither asked for nor placed (a server whose placement was deleted, or
    # not planned yet) binds nothing now; the engine takes only members it can see.
    known = {s.id for s in servers} | set(fixed or {}) | {g.id for g in groups}
    groups = [dataclasses.replace(g, members=tuple(m for m in g.members if m in known)) for g in groups]
    try:
        return engine.place(hosts, servers, groups, fixed=fixed)
    except engine.Unplaceable as exc:
        raise ApiError(409, exc.explanation) from None


def claims_of(size):
    return {col: int(size.get(rc, 0)) for rc, col in CLAIM_COLUMNS.items()}


def landed(touched, rows, where, keys, reserve):
    """Add to touched the hosts that servers land on (where = {server: host}) and the engine reserved.

    A host taking a server of an exclusivity key is left under that key, even if the same decision
    released it first (a server of the key replaced by another).
    """
    for u, host in where.items():
        touched[host] = keys.get(u) or touched.get(host, rows[host]["exclusive"])
    touched.update(reserve)
    return touched


def released(session, rows, gone):
    """{host: exclusive key left} for the hosts that placements `gone` (already deleted) leave.

    A host stays reserved under its key while a placement holding that key is left in its rack
    (a rack-level group reserves the rack's empty hosts too; a host-level one, its own host).
    """

    def rack(name):
        return (rows.get(name) or {}).get("rack") or name

    held = {(p["exclusive"], rack(p["host"])) for p in db.placements(session) if p["exclusive"]}
    gone_keys = {p["exclusive"] for p in gone if p["exclusive"]}
    gone_racks = {rack(p["host"]) for p in gone}
    touched = {p["host"]: rows[p["host"]]["exclusive"] for p in gone}
    for name, row in rows.items():
        key = row["exclusive"]
        if key in gone_keys and rack(name) in gone_racks and (key, rack(name)) not in held:
            touched[name] = None
    return touched
