"""The one valet-api client of the package, used by the Heat plugin and the Nova filter.

keystoneauth1 does what it does for Nova's report client: the Valet user's token (fetched
once, shared, renewed before it expires), the X-Auth-Token header and one new token and
resend after a 401. Retries are urllib3's, because only urllib3 can tell a connection that
was never made (safe to try again) from a request that was sent and got no reply, which
valet-api may already have acted on and which is never sent again. keystoneauth1's own
connect_retries would resend it, so they stay off.
"""

import time

import requests
from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from requests.adapters import HTTPAdapter
from urllib3.util import Retry
from urllib3.util import Timeout

import valet_os
from valet_os.common import config


class ValetError(Exception):
    """valet-api could not give an answer; the message says why."""


class ValetUnavailable(ValetError):
    """valet-api (or Keystone) could not be reached or did not answer in time."""


class ValetAuthError(ValetError):
    """No Keystone token could be had for the Valet service user."""


class ValetAPIError(ValetError):
    """valet-api answered with an HTTP error."""

    def __init__(self, status, explanation, method="", path=""):
        self.status = status
        self.explanation = explanation
        super().__init__("valet-api %s %s failed with HTTP %s: %s" % (method, path, status, explanation))


def unwrap(reply, key):
    """valet-api has replied both {"plan": {...}} and a bare {...}; return the inner dict."""
    if isinstance(reply, dict) and isinstance(reply.get(key), dict) and len(reply) == 1:
        return reply[key]
    return reply


def _explanation(response):
    """What valet-api said went wrong: its JSON explanation, else the (plain-text) body."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        text = data.get("explanation") or error.get("message") or data.get("title")
        if text:
            return str(text)
    text = (response.text or "").strip()
    return text[:500] if text else (response.reason or "no explanation given")


def _why(exc):
    """keystoneauth1's message plus the requests error under it ("Read timed out", "Errno 111")."""
    text = str(exc)
    cause = exc.__cause__ or exc.__context__
    if cause is not None and str(cause) not in text:
        text = "%s (%s)" % (text, cause)
    return text


class _Deadline(Timeout):
    """connect_timeout and read_timeout per attempt, and one deadline over all attempts.

    urllib3 clones the timeout before each attempt of a request; the clones keep the deadline.
    """

    def __init__(self, connect, read, deadline):
        super().__init__(connect=connect, read=read)
        self._limits = (connect, read)
        self._deadline = deadline

    def clone(self):
        return _Deadline(self._limits[0], self._limits[1], self._deadline)

    def _left(self, limit):
        return max(0.0, min(limit, self._deadline - time.monotonic()))

    @property
    def connect_timeout(self):
        # Never 0: to a socket that means "do not wait", not "too late".
        return max(self._left(self._limits[0]), 0.001)

    @property
    def read_timeout(self):
        # 0 makes urllib3 give up at once with a read timeout.
        return self._left(self._limits[1])


class _Transport(HTTPAdapter):
    """HTTP under keystoneauth1: connection errors retried, each request done by its deadline."""

    def __init__(self, opts):
        self._timeouts = (opts.connect_timeout, opts.read_timeout, opts.total_timeout)
        # connect: failures before the request left (refused, unreachable, connect timeout).
        # read=False: once sent, never again. status=0: an HTTP error reply is an answer.
        super().__init__(max_retries=Retry(total=None, connect=opts.retries, read=False, status=0, other=0))

    def send(self, request, **kwargs):
        # Every request gets its own deadline, Keystone's token request included.
        connect, read, total = self._timeouts
        kwargs["timeout"] = _Deadline(connect, read, time.monotonic() + total)
        return super().send(request, **kwargs)


class ValetClient:
    """Talks to valet-api as the Valet service user, through one keystoneauth1 Adapter."""

    def __init__(self, conf=None):
        opts = config.register_opts(conf).valet
        if not opts.url:
            raise ValetError("[valet] url is not set")
        if not opts.admin_auth_url:
            raise ValetAuthError("[valet] admin_auth_url is not set: cannot authenticate to valet-api")
        self._who = "user %r at %s" % (opts.admin_username, opts.admin_auth_url)
        auth = v3.Password(
            auth_url=opts.admin_auth_url,
            username=opts.admin_username,
            password=opts.admin_password,
            project_name=opts.admin_tenant_name,
            user_domain_name=opts.admin_user_domain_name,
            project_domain_name=opts.admin_project_domain_name,
        )
        http = requests.Session()
        transport = _Transport(opts)
        http.mount("http://", transport)
        http.mount("https://", transport)
        self._adapter = ks_adapter.Adapter(
            ks_session.Session(auth=auth, session=http),
            endpoint_override=opts.url,
            connect_retries=0,
            status_code_retries=0,
            raise_exc=False,
            additional_headers={"Accept": "application/json"},
            client_name="valet-openstack",
            client_version=valet_os.__version__,
        )

    def request(self, method, path, body=None):
        """Send one request; return (status, parsed JSON or None). Raise ValetError on failure."""
        try:
            # A no-op while the token is fresh; asked first so that errors name the culprit.
            self._adapter.get_token()
        except ks_exc.ConnectionError as exc:
            raise ValetUnavailable("Keystone unreachable for the Valet %s: %s" % (self._who, _why(exc))) from exc
        except ks_exc.ClientException as exc:
            raise ValetAuthError("no Keystone token for the Valet %s: %s" % (self._who, exc)) from exc
        try:
            response = self._adapter.request(path, method, json=body)
        except ks_exc.ConnectionError as exc:
            raise ValetUnavailable("valet-api %s %s got no answer: %s" % (method, path, _why(exc))) from exc
        except ks_exc.ClientException as exc:
            # valet-api's replies come back as responses (raise_exc=False): this is Keystone
            # refusing the new token asked for after a 401.
            raise ValetAuthError("no Keystone token for the Valet %s: %s" % (self._who, exc)) from exc
        if response.status_code >= 400:
            raise ValetAPIError(response.status_code, _explanation(response), method, path)
        if not response.content:
            return response.status_code, None
        try:
            return response.status_code, response.json()
        except ValueError:
            raise ValetAPIError(
                response.status_code, "reply is not JSON: %r" % response.text[:200], method, path
            ) from None

    # -- valet-api calls ---------------------------------------------------------------------

    def create_plan(self, body):
        return unwrap(self.request("POST", "/plans", body)[1], "plan")

    def update_plan(self, stack_id, resources):
        body = {"action": "update", "resources": resources}
        return unwrap(self.request("PUT", "/plans/%s" % stack_id, body)[1], "plan")

    def delete_plan(self, stack_id):
        """Delete a plan; return False if valet-api did not know it."""
        try:
            self.request("DELETE", "/plans/%s" % stack_id)
        except ValetAPIError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def place(self, resource_uuid, locations, resource_id):
        body = {"locations": list(locations), "resource_id": resource_id}
        return unwrap(self.request("POST", "/placements/%s" % resource_uuid, body)[1], "placement")
