"""The WSGI application, assembled in code.

A request meets, in order: request id (x-openstack-request-id on every answer) → the
catch-all fault wrapper (a JSON 500, never a traceback) → auth_token (or noauth2) →
context → router → handler. The fault wrapper sits outside auth so that nothing,
auth included, can answer without the contract's body; the request id outside it so
that even a 500 carries the id its log lines carry.
"""

import json

import routes
import webob
import webob.dec
from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_log import log as logging
from oslo_middleware import request_id

from valet_api import auth
from valet_api import errors
from valet_api import planning
from valet_api import policy
from valet_api.db import api as db
from valet_api.handlers import groups
from valet_api.handlers import placements
from valet_api.handlers import plans
from valet_api.handlers import root
from valet_api.handlers import status

LOG = logging.getLogger(__name__)

ROUTES = {
    "/": {"GET": root.versions},
    "/v1": {"GET": root.v1},
    "/v1/status": {"GET": status.show, "HEAD": status.head},
    "/v1/plans": {"GET": plans.list_plans, "POST": plans.create},
    "/v1/plans/{ident}": {"GET": plans.show, "PUT": plans.update, "DELETE": plans.delete},
    "/v1/placements": {"GET": placements.list_placements},
    "/v1/placements/{ident}": {"GET": placements.show, "POST": placements.request, "DELETE": placements.delete},
    "/v1/groups": {"GET": groups.list_groups, "POST": groups.create},
    "/v1/groups/{ident}": {"GET": groups.show, "PUT": groups.update, "DELETE": groups.delete},
    "/v1/groups/{ident}/members": {
        "GET": groups.members,
        "PUT": groups.add_members,
        "POST": groups.add_members,
        "DELETE": groups.remove_members,
    },
    "/v1/groups/{ident}/members/{project}": {"DELETE": groups.remove_member},
}


class Service:
    """What handlers share: configuration, database, cloud."""

    def __init__(self, conf, cloud):
        self.conf = conf
        self.db = db.Database(conf)
        self.cloud = cloud

    def hosts(self):
        try:
            return list(self.cloud.hosts())
        except Exception as exc:
            LOG.exception("cannot read the cloud's hosts")
            raise errors.ApiError(503, "cannot read the cloud's hosts: %s" % type(exc).__name__) from None

    @oslo_db_api.wrap_db_retry(max_retries=5, exception_checker=lambda exc: isinstance(exc, db_exc.DBDuplicateEntry))
    def _ensure_hosts(self, racks):
        # Two processes may meet a new host at once: the loser reads it back and goes on.
        with self.db.writer() as session:
            db.ensure_hosts(session, racks)

    def decide(self, attempt, cloud_hosts):
        """Run a decision (planning.run_decision) over the cloud's hosts, their rows made first."""
        if cloud_hosts:
            self._ensure_hosts({h.name: h.rack for h in cloud_hosts})
        return planning.run_decision(self.db, attempt)


class Router:
    def __init__(self, service):
        self.service = service
        self.mapper = routes.Mapper()
        for path in ROUTES:
            self.mapper.connect(path, valet_route=path)

    @webob.dec.wsgify
    def __call__(self, req):
        req.environ["valet.service"] = self.service
        match = self.mapper.match(req.path_info.rstrip("/") or "/")
        try:
            if match is None:
                raise errors.ApiError(404, "no such resource: %s" % req.path_info)
            methods = ROUTES[match.pop("valet_route")]
            handler = methods.get(req.method)
            if handler is None:
                raise errors.ApiError(
                    405, "%s %s is not supported" % (req.method, req.path_info), {"Allow": ", ".join(sorted(methods))}
                )
            code, payload = handler(req, **match)
        except errors.ApiError as exc:
            return errors.response(exc.code, exc.explanation, exc.headers)
        except db_exc.DBError as exc:
            LOG.exception("database error")
            return errors.response(503, "database error: %s" % type(exc).__name__)
        resp = webob.Response(status=code)
        if payload is not None:
            resp.content_type = "application/json"
            resp.charset = None
            resp.body = json.dumps(payload).encode()
        return resp


class FaultWrapper:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        try:
            return self.app(environ, start_response)
        except Exception:
            LOG.exception("unexpected error serving %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            return errors.response(500, "valet-api hit an unexpected error; see its log")(environ, start_response)


def loadapp(conf, cloud):
    service = Service(conf, cloud)
    app = Router(service)
    app = auth.Context(app, policy.enforcer(conf))
    if conf.api.auth_strategy == "noauth2":
        app = auth.NoAuth2(app)
    else:
        app = auth.KeystoneAuth(app, conf)
    app = FaultWrapper(app)
    app = request_id.RequestId(app)
    return app
