"""/v1/groups: exclusivity groups registered by name, and the projects that may use them."""

from oslo_db import exception as db_exc

from valet_api import engine
from valet_api import planning
from valet_api.db import api as db
from valet_api.errors import ApiError
from valet_api.handlers import util


def _view(g):
    return {k: g[k] for k in ("id", "name", "type", "description", "members")}


def _find(session, ident):
    found = db.group_rows(session, ident)
    if not found:
        raise ApiError(404, "group %s not found" % ident)
    return found[0]


def list_groups(req):
    util.context(req).can("valet:groups:list")
    with util.service(req).db.reader() as session:
        return 200, {"groups": [_view(g) for g in db.group_rows(session)]}


def create(req):
    util.context(req).can("valet:groups:create")
    body = util.json_body(req)
    name, kind = body.get("name"), body.get("type", "exclusivity")
    description = body.get("description", "")
    if not planning.is_text(name):
        raise ApiError(400, "a group needs a name")
    if kind not in engine.GROUP_TYPES:
        raise ApiError(400, "group type must be one of %s" % ", ".join(engine.GROUP_TYPES))
    if not isinstance(description, str):
        raise ApiError(400, "description must be a string")
    group = {"id": planning.new_id(), "name": name, "type": kind, "description": description}
    try:
        with util.service(req).db.writer() as session:
            if db.group_rows(session, name):
                raise ApiError(409, "group %s already exists" % name)
            db.insert_group(session, group)
    except db_exc.DBDuplicateEntry:
        raise ApiError(409, "group %s already exists" % name) from None
    return 201, {"group": dict(group, members=[])}


def show(req, ident):
    util.context(req).can("valet:groups:show")
    with util.service(req).db.reader() as session:
        return 200, {"group": _view(_find(session, ident))}


def update(req, ident):
    util.context(req).can("valet:groups:update")
    body = util.json_body(req)
    with util.service(req).db.writer() as session:
        group = _find(session, ident)
        if "description" in body:
            if not isinstance(body["description"], str):
                raise ApiError(400, "description must be a string")
            db.update_group(session, group["id"], body["description"])
            group["description"] = body["description"]
        return 200, {"group": _view(group)}


def delete(req, ident):
    util.context(req).can("valet:groups:delete")
    with util.service(req).db.writer() as session:
        group = _find(session, ident)
        if group["members"]:
            raise ApiError(409, "group %s still has members" % group["name"])
        db.delete_group(session, group["id"])
    return 204, None


def members(req, ident):
    util.context(req).can("valet:groups:show")
    with util.service(req).db.reader() as session:
        return 200, {"members": _find(session, ident)["members"]}


def add_members(req, ident):
    util.context(req).can("valet:groups:update")
    body = util.json_body(req)
    projects = body.get("members")
    if not isinstance(projects, list) or not all(planning.is_text(p) for p in projects):
        raise ApiError(400, "members must be a list of project ids")
    with util.service(req).db.writer() as session:
        group = _find(session, ident)
        db.add_members(session, group["id"], projects, group["members"])
        group = _find(session, group["id"])
    return (201 if req.method == "POST" else 200), {"group": _view(group)}


def remove_members(req, ident):
    util.context(req).can("valet:groups:update")
    with util.service(req).db.writer() as session:
        db.remove_members(session, _find(session, ident)["id"])
    return 204, None


def remove_member(req, ident, project):
    util.context(req).can("valet:groups:update")
    with util.service(req).db.writer() as session:
        group = _find(session, ident)
        if project not in group["members"]:
            raise ApiError(404, "%s is not a member of group %s" % (project, group["name"]))
        db.remove_members(session, group["id"], [project])
    return 204, None
