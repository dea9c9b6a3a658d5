"""valet-api served in-process on SQLite with noauth2, over a cloud the test controls."""

import json

import pytest
import webob
from valet_api_fakes import FakeCloud
from valet_api_fakes import make_conf
from valet_api_fakes import sync
from valet_api_mariadb import MariaDB
from valet_api_mariadb import missing


@pytest.fixture
def cloud():
    return FakeCloud.grid(racks=2, per_rack=3)


@pytest.fixture
def conf(tmp_path):
    conf = make_conf("sqlite:///%s" % (tmp_path / "valet.sqlite"))
    sync(conf)
    return conf


class Api:
    """Calls the WSGI app the way a client would, with a noauth2 token for a project."""

    def __init__(self, app, project="p1"):
        self.app = app
        self.project = project

    def __call__(self, method, path, body=None, project=None, raw=None, headers=None):
        req = webob.Request.blank(path, method=method)
        req.headers["X-Auth-Token"] = "u1:%s" % (project or self.project)
        req.headers.update(headers or {})
        if raw is not None:
            req.body = raw
        elif body is not None:
            req.body = json.dumps(body).encode()
            req.content_type = "application/json"
        resp = req.get_response(self.app)
        data = resp.json if resp.body and resp.content_type == "application/json" else None
        return resp.status_code, data


@pytest.fixture
def api(conf, cloud):
    from valet_api import wsgi

    return Api(wsgi.init_application(conf, cloud=cloud))


@pytest.fixture(scope="session")
def mariadb():
    """A private MariaDB (skipped, saying why, only where its binaries are absent)."""
    absent = missing()
    if absent:
        pytest.skip(
            "MariaDB binaries %s are not installed (tests/install-host-deps.sh installs mariadb-server)" % absent
        )
    db = MariaDB().start()
    yield db
    db.stop()
