"""The one valet-api client of the package, used by the Heat plugin and the Nova filter.

keystoneauth1 does what it does for Nova's report client: the Valet user's token (fetched
once, shared, renewed before it expires), the X-Auth-Token header and one new token and
resend after a 401. Retries are urllib3's, because only urllib3 can tell a connection that
was never made (safe to try again) from a request that was sent and got no reply, which
valet-api may already have acted on and which is never sent again. keystoneauth1's own
connect_retries would resend it, so they stay off.
"""

import http.client
import io
import socket
import threading
import time
import zlib

import requests
import urllib3
from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from oslo_config import cfg
from oslo_log import log as logging
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ProtocolError
from urllib3.exceptions import ReadTimeoutError
from urllib3.util import Retry
from urllib3.util import Timeout

import valet_os
from valet_os.common import config

LOG = logging.getLogger(__name__)

# valet-api's replies are a few KB; a bigger one (or one that unpacks bigger) is refused.
MAX_REPLY_BYTES = 1024 * 1024
_CHUNK = 64 * 1024
# oslo.messaging's executor_thread_pool_size default, when the service has not registered it.
DEFAULT_POOL_SIZE = 64


class ValetError(Exception):
    """valet-api could not give an answer; the message says why."""


class ValetUnavailable(ValetError):
    """valet-api (or Keystone) could not be reached or did not answer in time."""


class ValetAuthError(ValetError):
    """No Keystone token could be had for the Valet service user."""


class ValetAPIError(ValetError):
    """valet-api answered with an HTTP error."""

    def __init__(self, status, explanation, method="", path="", from_api=False):
        self.status = status
        self.explanation = explanation
        # True: the explanation is valet-api's JSON error explanation, written for its users.
        self.from_api = from_api
        super().__init__("valet-api %s %s failed with HTTP %s: %s" % (method, path, status, explanation))


def unwrap(reply, key):
    """valet-api has replied both {"plan": {...}} and a bare {...}; return the inner dict."""
    if isinstance(reply, dict) and isinstance(reply.get(key), dict) and len(reply) == 1:
        return reply[key]
    return reply


def _explanation(response):
    """(what valet-api said went wrong, whether it said it in its JSON error): its JSON
    explanation, else the (plain-text) body."""
    try:
        data = response.json()
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        text = data.get("explanation") or error.get("message") or data.get("title")
        if text:
            return str(text), True
    text = (response.text or "").strip()
    return (text[:500] if text else (response.reason or "no explanation given")), False


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


# The request this thread is sending: its deadline and read_timeout, for the reply it gets.
_CURRENT = threading.local()


class _DeadlineSocketIO(io.RawIOBase):
    """The reply's bytes off the socket, each read bounded by read_timeout and the deadline.

    A socket timeout bounds one read; a reply that trickles in (a header or body byte at a
    time) would reset it forever. Here every read gets only what is left of the deadline.
    """

    def __init__(self, sock, deadline, read_timeout):
        super().__init__()
        self._sock = sock
        self._raw = sock.makefile("rb", buffering=0)
        self._deadline = deadline
        self._read_timeout = read_timeout

    def readable(self):
        return True

    def readinto(self, buf):
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("total_timeout reached while reading the reply")
        self._sock.settimeout(min(left, self._read_timeout))
        return self._raw.readinto(buf)

    def close(self):
        self._raw.close()
        super().close()


class _DeadlineResponse(http.client.HTTPResponse):
    """http.client's response (status line, headers, body) read under the request's deadline."""

    def __init__(self, sock, *args, **kwargs):
        super().__init__(sock, *args, **kwargs)
        deadline = getattr(_CURRENT, "deadline", None)
        if deadline is not None:
            self.fp.close()
            self.fp = io.BufferedReader(_DeadlineSocketIO(sock, deadline, _CURRENT.read_timeout))


class _HTTPConnection(urllib3.connection.HTTPConnection):
    response_class = _DeadlineResponse


class _HTTPSConnection(urllib3.connection.HTTPSConnection):
    response_class = _DeadlineResponse


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class ReplyTooLarge(requests.exceptions.RequestException):
    """A reply over MAX_REPLY_BYTES (after decompression)."""


def _decompressor(response):
    encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding in ("identity", ""):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    raise requests.exceptions.ContentDecodingError("unsupported Content-Encoding %r" % encoding)


def _read_body(response, limit):
    """The whole body, decompressed, at most limit bytes; never more than limit+64 KiB in memory."""
    length = response.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > limit:
        raise ReplyTooLarge("reply of %s bytes is over the %d-byte limit" % (length, limit))
    decoder = _decompressor(response)
    body = bytearray()

    def add(data):
        if len(body) + len(data) > limit:
            raise ReplyTooLarge("reply is over the %d-byte limit" % limit)
        body.extend(data)

    while True:
        chunk = response.raw.read(_CHUNK, decode_content=False)
        if not chunk:
            break
        while chunk and decoder is not None:
            # max_length: a gzip bomb never unpacks past the limit.
            add(decoder.decompress(chunk, limit - len(body) + 1))
            chunk = decoder.unconsumed_tail
        if decoder is None:
            add(chunk)
    if decoder is not None:
        add(decoder.flush(limit - len(body) + 1))
    return bytes(body)


class _Transport(HTTPAdapter):
    """HTTP under keystoneauth1: connection errors retried, each request done by its deadline,
    its reply capped at MAX_REPLY_BYTES."""

    def __init__(self, opts, pool_size):
        self._timeouts = (opts.connect_timeout, opts.read_timeout, opts.total_timeout)
        # connect: failures before the request left (refused, unreachable, connect timeout).
        # read=False: once sent, never again. status=0: an HTTP error reply is an answer.
        super().__init__(
            pool_maxsize=pool_size,
            max_retries=Retry(total=None, connect=opts.retries, read=False, status=0, other=0),
        )

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def send(self, request, **kwargs):
        # Every request gets its own deadline, Keystone's token request included.
        connect, read, total = self._timeouts
        deadline = time.monotonic() + total
        kwargs["timeout"] = _Deadline(connect, read, deadline)
        _CURRENT.deadline, _CURRENT.read_timeout = deadline, read
        try:
            response = super().send(request, **kwargs)
        finally:
            _CURRENT.deadline = None
        try:
            # Read here, not by requests: the cap holds, and read errors become requests' own.
            response._content = _read_body(response, MAX_REPLY_BYTES)
        except requests.exceptions.RequestException:
            response.close()
            raise
        except ReadTimeoutError as exc:
            response.close()
            raise requests.exceptions.ReadTimeout(exc, request=request) from exc
        except (ProtocolError, OSError) as exc:
            response.close()
            raise requests.exceptions.ConnectionError(exc, request=request) from exc
        except Exception:
            response.close()
            raise
        response._content_consumed = True
        return response


def pool_size(conf):
    """One connection per request the service can have in flight: its RPC executor's threads."""
    try:
        return max(int(conf.executor_thread_pool_size), 1)
    except (cfg.NoSuchOptError, TypeError, ValueError):
        return DEFAULT_POOL_SIZE


class ValetClient:
    """Talks to valet-api as the Valet service user, through one keystoneauth1 Adapter."""

    def __init__(self, conf=None):
        conf = config.register_opts(conf)
        opts = conf.valet
        if not opts.url:
            raise ValetError("[valet] url is not set")
        auth = config.load_auth(conf)
        if auth is None or not getattr(auth, "auth_url", None):
            raise ValetAuthError("[valet] auth_url is not set: cannot authenticate to valet-api")
        # For the service log only: tenants never see it (valet_os.heat.plan).
        self._who = "user %r at %s" % (opts.username or opts.auth_type, auth.auth_url)
        if opts.timeout is not None:
            LOG.warning("valet: [valet] timeout is not used: connect_timeout, read_timeout and total_timeout are")
        http = requests.Session()
        transport = _Transport(opts, pool_size(conf))
        http.mount("http://", transport)
        http.mount("https://", transport)
        # cafile, certfile, keyfile, insecure: for Keystone's token and valet-api alike.
        session = ks_loading.load_session_from_conf_options(conf, config.GROUP, auth=auth, session=http)
        self._adapter = ks_adapter.Adapter(
            session,
            endpoint_override=opts.url,
            connect_retries=0,
            status_code_retries=0,
            raise_exc=False,
            additional_headers={"Accept": "application/json", "Accept-Encoding": "gzip, deflate"},
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
            text, from_api = _explanation(response)
            raise ValetAPIError(response.status_code, text, method, path, from_api)
        if not response.content:
            return response.status_code, None
        try:
            return response.status_code, response.json()
        except (ValueError, RecursionError):  # RecursionError: nested too deep to parse
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

    def place(self, resource_uuid, locations, resource_id, project_id=None):
        body = {"locations": list(locations), "resource_id": resource_id, "project_id": project_id}
        return unwrap(self.request("POST", "/placements/%s" % resource_uuid, body)[1], "placement")
