"""Authentication: keystonemiddleware's auth_token, or noauth2 for tests; then the context."""

import webob.dec
import webob.exc
from keystonemiddleware import auth_token
from oslo_log import log as logging

from valet_api import context
from valet_api import errors

LOG = logging.getLogger(__name__)


def _is_root(environ):
    return environ.get("PATH_INFO", "/").rstrip("/") == ""


class KeystoneAuth(auth_token.AuthProtocol):
    """auth_token for everything but GET / (version discovery needs no token)."""

    def __init__(self, app, conf):
        self._valet_app = app
        super().__init__(app, {"oslo_config_config": conf})

    def __call__(self, environ, start_response):
        if _is_root(environ):
            return self._valet_app(environ, start_response)
        return super().__call__(environ, start_response)

    def process_request(self, request):
        # auth_token's own 401 body, in the contract's shape; WWW-Authenticate kept.
        try:
            return super().process_request(request)
        except webob.exc.HTTPUnauthorized as exc:
            headers = {k: v for k, v in exc.headers.items() if k.lower() == "www-authenticate"}
            return errors.response(401, "a valid Keystone token is required", headers)


class NoAuth2:
    """Tests only: token 'user:project' (or any token: 'admin' of project 'admin'); roles from X-Roles."""

    def __init__(self, app):
        self.app = app

    @webob.dec.wsgify
    def __call__(self, req):
        if _is_root(req.environ):
            return req.get_response(self.app)
        token = req.headers.get("X-Auth-Token")
        if not token:
            return errors.response(401, "a token is required (noauth2: X-Auth-Token user:project)")
        user, _sep, project = token.partition(":")
        req.headers["X-User-Id"] = user
        req.headers["X-Project-Id"] = project or user
        req.headers["X-Roles"] = req.headers.get("X-Roles", "admin")
        req.headers["X-Identity-Status"] = "Confirmed"
        return req.get_response(self.app)


class Context:
    """Builds the RequestContext; a request without a user never reaches a handler."""

    def __init__(self, app, enforcer):
        self.app = app
        self.enforcer = enforcer

    @webob.dec.wsgify
    def __call__(self, req):
        if not _is_root(req.environ):
            ctx = context.RequestContext.from_environ(req.environ, enforcer=self.enforcer)
            if not ctx.user_id:
                LOG.debug("no user in the request, refused")
                return errors.response(401, "no authenticated user")
            req.environ["valet.context"] = ctx
        return req.get_response(self.app)
