"""/v1/placements: Nova's question for one server: confirm its planned host, or replan it."""

from valet_api import engine
from valet_api import planning
from valet_api.db import api as db
from valet_api.errors import ApiError
from valet_api.handlers import plans as plans_handler
from valet_api.handlers import util

FIELDS = ("id", "orchestration_id", "resource_id", "plan_id", "name")


def view(p):
    out = {k: p[k] for k in FIELDS}
    out["location"] = p["host"]
    return out


def _find(session, ident):
    p = db.placement_row(session, ident)
    if p is None:
        raise ApiError(404, "placement %s not found" % ident)
    return p


def list_placements(req):
    util.context(req).can("valet:placements:list")
    with util.service(req).db.reader() as session:
        return 200, {"placements": [view(p) for p in db.placements(session)]}


def show(req, ident):
    util.context(req).can("valet:placements:show")
    with util.service(req).db.reader() as session:
        return 200, {"placement": view(_find(session, ident))}


def request(req, ident):
    """POST /v1/placements/{resource uuid} {locations, resource_id, project_id}."""
    util.context(req).can("valet:placements:create")
    body = util.json_body(req)
    locations = plans_handler.locations_of(body)
    if locations is None:
        raise ApiError(400, "locations must be a non-empty list of host names")
    resource_id = body.get("resource_id")
    if resource_id is not None and not planning.is_text(resource_id):
        raise ApiError(400, "resource_id must be a string")
    util.project_of(req, body)  # validated; the plan's owner decides its groups' keys, as when it was made
    svc = util.service(req)
    with svc.db.writer() as session:
        current = db.placement_row(session, ident)
        if current is None:
            raise ApiError(404, "no plan knows resource %s" % ident)
        if current["host"] in locations:
            # The planned host is among Nova's: confirm it, nothing moves.
            if resource_id:
                db.confirm_placement(session, current["orchestration_id"], resource_id)
                current["resource_id"] = resource_id
            return 201, {"placement": view(current)}
        plan = db.plan_row(session, current["plan_id"])
        groups = planning.build_groups(plan["resources"], plan["project_id"], planning.registered_groups(session))
    return 201, {"placement": view(_replan(svc, plan, current, locations, resource_id, groups))}


def _replan(svc, plan, current, locations, resource_id, groups):
    """Move one server to a host among locations, its groups and the plan's other servers holding."""
    cloud_hosts = svc.hosts()
    keys = planning.exclusive_keys(groups)
    u = current["orchestration_id"]
    resources = plan["resources"]

    def attempt(session, rows):
        mine = db.placements(session, plan["id"])
        me = next((p for p in mine if p["orchestration_id"] == u), None)
        if me is None:
            raise ApiError(404, "no plan knows resource %s" % u)
        sizes = {p["orchestration_id"]: {rc: p[col] for rc, col in planning.CLAIM_COLUMNS.items()} for p in mine}
        servers = [
            engine.Server(
                id=p["orchestration_id"],
                name=(resources.get(p["orchestration_id"]) or {}).get("name") or p["orchestration_id"],
                size=sizes[p["orchestration_id"]],
                candidates=locations if p["orchestration_id"] == u else None,
            )
            for p in mine
        ]
        fixed = {p["orchestration_id"]: p["host"] for p in mine if p["orchestration_id"] != u}
        hosts = planning.engine_hosts(cloud_hosts, rows, db.placements(session), plan["id"])
        result = planning.place(hosts, servers, planning.among(groups, [s.id for s in servers]), fixed=fixed)
        host = result.hosts[u]
        db.move_placement(session, u, host, keys.get(u))
        if resource_id:
            db.confirm_placement(session, u, resource_id)
        touched = planning.released(session, rows, [me])
        planning.landed(touched, rows, {u: host}, keys, result.reserve)
        return db.placement_row(session, u), touched

    return svc.decide(attempt, cloud_hosts)


def delete(req, ident):
    util.context(req).can("valet:placements:delete")
    svc = util.service(req)

    def attempt(session, rows):
        p = _find(session, ident)
        db.delete_placements(session, [p["orchestration_id"]])
        return None, planning.released(session, rows, [p])

    svc.decide(attempt, [])
    return 204, None
