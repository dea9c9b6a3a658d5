"""The one valet-api client used by the Heat plugin and the Nova filter."""

import json
import logging as std_logging
import threading

import requests
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from oslo_log import log as logging

from valet_os.common import config

LOG = logging.getLogger(__name__)

# urllib3 logs every retry with the URL only, never headers, but keep it quiet anyway.
std_logging.getLogger("urllib3").setLevel(std_logging.WARNING)


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
        super().__init__("valet-api %s %s failed with HTTP %s: %s"
                         % (method, path, status, explanation))


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


class ValetClient(object):
    """Talks to valet-api with one cached Keystone token and one pooled HTTP session."""

    def __init__(self, conf=None):
        conf = config.register_opts(conf)
        opts = conf.valet
        if not opts.url:
            raise ValetError("[valet] url is not set")
        self.url = opts.url.rstrip("/")
        self.timeout = (opts.connect_timeout, opts.read_timeout)
        self.retries = opts.retries
        self.failure_mode = opts.failure_mode
        self._auth_url = opts.admin_auth_url
        self._username = opts.admin_username
        if self._auth_url:
            auth = v3.Password(
                auth_url=self._auth_url,
                username=opts.admin_username,
                password=opts.admin_password,
                project_name=opts.admin_tenant_name,
                user_domain_name=opts.admin_user_domain_name,
                project_domain_name=opts.admin_project_domain_name)
            # The auth plugin keeps the token and fetches a new one only when it
            # is about to expire, so there is no Keystone round trip per request.
            self._keystone = ks_session.Session(
                auth=auth, timeout=opts.connect_timeout + opts.read_timeout)
        else:
            self._keystone = None
        self._http = requests.Session()
        self._lock = threading.Lock()

    # -- helpers ---------------------------------------------------------------------------

    def _token(self):
        if self._keystone is None:
            raise ValetAuthError("[valet] admin_auth_url is not set: cannot authenticate to valet-api")
        try:
            # Serialised so that concurrent first calls do not all log in.
            with self._lock:
                return self._keystone.get_token()
        except (ks_exc.ConnectFailure, ks_exc.ConnectTimeout, ks_exc.RequestTimeout) as exc:
            raise ValetUnavailable("Keystone at %s unreachable: %s" % (self._auth_url, exc))
        except ks_exc.ClientException as exc:
            raise ValetAuthError("Keystone at %s refused a token to user %r: %s"
                                 % (self._auth_url, self._username, exc))

    def request(self, method, path, body=None):
        """Send one request; return (status, parsed JSON or None). Raise ValetError on failure."""
        url = self.url + path
        headers = {"X-Auth-Token": self._token(), "Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body)
        last = None
        for attempt in range(self.retries + 1):
            try:
                response = self._http.request(method, url, data=data, headers=headers,
                                              timeout=self.timeout)
                break
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = exc
                LOG.debug("valet-api %s %s attempt %d failed: %s", method, path, attempt + 1, exc)
        else:
            raise ValetUnavailable("valet-api at %s unreachable (%s %s, %d attempt(s)): %s"
                                   % (self.url, method, path, self.retries + 1, last))
        LOG.debug("valet-api %s %s -> %s", method, path, response.status_code)
        if response.status_code == 401 and self._keystone is not None:
            # Our token may have been revoked: make the next call fetch a fresh one.
            self._keystone.invalidate()
        if response.status_code >= 400:
            raise ValetAPIError(response.status_code, _explanation(response), method, path)
        if not response.content:
            return response.status_code, None
        try:
            return response.status_code, response.json()
        except ValueError:
            raise ValetAPIError(response.status_code, "reply is not JSON: %r"
                                % response.text[:200], method, path)

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
