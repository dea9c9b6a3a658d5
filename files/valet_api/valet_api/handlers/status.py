"""GET /v1/status: valet-api and what it depends on, the database and the cloud's APIs."""

from oslo_log import log as logging

from valet_api.db import api as db
from valet_api.handlers import util

LOG = logging.getLogger(__name__)


def show(req):
    util.context(req).can("valet:status:show")
    svc = util.service(req)
    status = {"valet-api": "ok"}
    try:
        with svc.db.reader() as session:
            status["plans"] = db.count_plans(session)
        status["database"] = "ok"
    except Exception as exc:
        LOG.warning("status: database unreachable: %s", exc)
        status["database"] = "error: %s" % type(exc).__name__
    try:
        status["cloud"] = svc.cloud.status()
    except Exception as exc:
        LOG.warning("status: cloud unreachable: %s", exc)
        status["cloud"] = "error: %s" % type(exc).__name__
    cloud = status["cloud"]
    if status["database"] != "ok" or not isinstance(cloud, dict) or any(v != "ok" for v in cloud.values()):
        status["valet-api"] = "degraded"
    return 200, {"status": status}


def head(req):
    util.context(req).can("valet:status:show")
    return 204, None
