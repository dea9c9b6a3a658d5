"""/v1/plans: a stack's servers and groups, placed whole when the plan is made or updated."""

from oslo_db import exception as db_exc

from valet_api import engine
from valet_api import planning
from valet_api.db import api as db
from valet_api.errors import ApiError
from valet_api.handlers import util


def view(plan, placements):
    where = {p["orchestration_id"]: p for p in placements}
    out = {k: plan[k] for k in ("id", "name", "stack_id", "project_id", "timeout", "resources")}
    out["placements"] = {
        u: {"location": where[u]["host"], "name": plan["resources"][u].get("name")}
        for u in plan["resources"]
        if u in where
    }
    return out


def _find(session, ident):
    plan = db.plan_row(session, ident)
    if plan is None:
        raise ApiError(404, "plan %s not found" % ident)
    return plan


def list_plans(req):
    util.context(req).can("valet:plans:list")
    with util.service(req).db.reader() as session:
        by_plan = {}
        for p in db.placements(session):
            by_plan.setdefault(p["plan_id"], []).append(p)
        return 200, {"plans": [view(plan, by_plan.get(plan["id"], [])) for plan in db.list_plans(session)]}


def show(req, ident):
    util.context(req).can("valet:plans:show")
    with util.service(req).db.reader() as session:
        plan = _find(session, ident)
        return 200, {"plan": view(plan, db.placements(session, plan["id"]))}


def _servers(resources, uuids, size_of, candidates=None):
    return [
        engine.Server(id=u, name=resources[u].get("name") or u, size=size_of[u], candidates=candidates)
        for u in sorted(uuids)
    ]


def locations_of(body):
    locations = body.get("locations")
    if locations is None:
        return None
    if not isinstance(locations, list) or not locations or not all(planning.is_text(h) for h in locations):
        raise ApiError(400, "locations must be a non-empty list of host names")
    return frozenset(locations)


def create(req):
    ctx = util.context(req)
    ctx.can("valet:plans:create")
    body = util.json_body(req)
    name = body.get("plan_name")
    if not planning.is_text(name):
        raise ApiError(400, "plan_name (a non-empty string) is required")
    stack_id = body.get("stack_id") or planning.new_id()
    if not isinstance(stack_id, str):
        raise ApiError(400, "stack_id must be a string")
    timeout = body.get("timeout")
    if timeout is not None and not isinstance(timeout, (str, int)):
        raise ApiError(400, "timeout must be a string or a number")
    resources = body.get("resources")
    server_uuids = planning.check_resources(resources)
    candidates = locations_of(body)
    project = util.project_of(req, body)
    svc = util.service(req)
    with svc.db.reader() as session:
        if db.plan_row(session, stack_id) is not None:
            raise ApiError(409, "a plan for stack %s already exists" % stack_id)
        groups = planning.build_groups(resources, project, planning.registered_groups(session))
    size_of = planning.sizes(svc.cloud, resources, server_uuids)
    servers = _servers(resources, server_uuids, size_of, candidates)
    cloud_hosts = svc.hosts()
    keys = planning.exclusive_keys(groups)
    plan = {
        "id": planning.new_id(),
        "name": name,
        "stack_id": stack_id,
        "project_id": project,
        "timeout": None if timeout is None else str(timeout),
        "resources": resources,
    }

    def attempt(session, rows):
        if db.plan_row(session, stack_id) is not None:
            raise ApiError(409, "a plan for stack %s already exists" % stack_id)
        hosts = planning.engine_hosts(cloud_hosts, rows, db.placements(session), plan["id"])
        result = planning.place(hosts, servers, groups) if servers else engine.Result(hosts={}, reserve={})
        db.insert_plan(session, plan)
        rows_out = _insert(session, plan, resources, result.hosts, size_of, keys, project)
        return rows_out, planning.landed({}, rows, result.hosts, keys, result.reserve)

    try:
        placements = svc.decide(attempt, cloud_hosts)
    except db_exc.DBDuplicateEntry:
        # Another request planned the same stack, or one of these resources, first.
        raise ApiError(409, "a plan for stack %s or for one of its resources already exists" % stack_id) from None
    return 201, {"plan": view(plan, placements)}


def _insert(session, plan, resources, where, size_of, keys, project):
    out = []
    for u in sorted(where):
        values = dict(
            id=planning.new_id(),
            orchestration_id=u,
            plan_id=plan["id"],
            name=resources[u].get("name"),
            host=where[u],
            resource_id=None,
            project_id=project,
            exclusive=keys.get(u),
            **planning.claims_of(size_of[u]),
        )
        db.insert_placement(session, values)
        out.append(values)
    return out


def update(req, ident):
    util.context(req).can("valet:plans:update")
    body = util.json_body(req)
    if body.get("action") != "update":
        raise ApiError(400, "unsupported plan action %r (expected 'update')" % body.get("action"))
    resources = body.get("resources")
    server_uuids = planning.check_resources(resources)
    svc = util.service(req)
    with svc.db.reader() as session:
        plan = _find(session, ident)
        project = plan["project_id"]
        groups = planning.build_groups(resources, project, planning.registered_groups(session))
        known = {p["orchestration_id"] for p in db.placements(session, plan["id"])}
    new = [u for u in server_uuids if u not in known]
    size_of = planning.sizes(svc.cloud, resources, new)
    cloud_hosts = svc.hosts() if new else []
    keys = planning.exclusive_keys(groups)

    def attempt(session, rows):
        current = db.placements(session, plan["id"])
        gone = [p for p in current if p["orchestration_id"] not in server_uuids]
        kept = [p for p in current if p["orchestration_id"] in server_uuids]
        db.delete_placements(session, [p["orchestration_id"] for p in gone])
        touched = planning.released(session, rows, gone)
        todo = [u for u in server_uuids if u not in {p["orchestration_id"] for p in kept}]
        if todo:
            sizes = dict(size_of)
            for p in kept:
                sizes[p["orchestration_id"]] = {rc: p[col] for rc, col in planning.CLAIM_COLUMNS.items()}
            hosts = planning.engine_hosts(cloud_hosts, rows, db.placements(session), plan["id"])
            servers = _servers(resources, [p["orchestration_id"] for p in kept] + todo, sizes)
            fixed = {p["orchestration_id"]: p["host"] for p in kept}
            result = planning.place(hosts, servers, groups, fixed=fixed)
            _insert(session, plan, resources, {u: result.hosts[u] for u in todo}, sizes, keys, project)
            planning.landed(touched, rows, {u: result.hosts[u] for u in todo}, keys, result.reserve)
        db.update_plan_resources(session, plan["id"], resources)
        return db.placements(session, plan["id"]), touched

    placements = svc.decide(attempt, cloud_hosts)
    return 200, {"plan": view(dict(plan, resources=resources), placements)}


def delete(req, ident):
    util.context(req).can("valet:plans:delete")
    svc = util.service(req)
    with svc.db.reader() as session:
        plan_id = _find(session, ident)["id"]

    def attempt(session, rows):
        if db.plan_row(session, plan_id) is None:
            raise ApiError(404, "plan %s not found" % ident)
        gone = db.placements(session, plan_id)
        db.delete_placements(session, [p["orchestration_id"] for p in gone])
        db.delete_plan(session, plan_id)
        return None, planning.released(session, rows, gone)

    svc.decide(attempt, [])
    return 204, None
