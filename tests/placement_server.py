"""A real OpenStack Placement (PyPI openstack-placement) on loopback, for tests.

Usage::

    with PlacementServer() as placement:          # [api] auth_strategy = noauth2
        placement.api("POST", "/resource_providers", {"name": "h1"})

    with PlacementServer(keystone=ks) as placement:  # keystonemiddleware against a real Keystone

Placement's own WSGI application (``placement.wsgi.api:application``) served by gunicorn in a
subprocess, on SQLite (schema by ``sync_on_startup``), so Placement's global state never enters the
test process. ``api()`` is an admin client of Placement's own API (noauth2 only) to seed providers,
inventories and allocations.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

PLACEMENT_CONF = """\
[DEFAULT]
log_file = {tmp}/placement.log
use_stderr = false

[api]
auth_strategy = {auth_strategy}

[placement_database]
connection = sqlite:///{tmp}/placement.sqlite
sync_on_startup = true
"""

AUTHTOKEN_CONF = """
[keystone_authtoken]
www_authenticate_uri = {auth_url}
auth_url = {auth_url}
auth_type = password
username = {user}
password = {password}
project_name = service
user_domain_name = Default
project_domain_name = Default
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PlacementServer:
    def __init__(self, keystone=None, startup_timeout=60):
        self.keystone = keystone
        self.startup_timeout = startup_timeout
        self.tmp = self.proc = self.port = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        self.tmp = tempfile.mkdtemp(prefix="placement-fixture-")
        conf = PLACEMENT_CONF.format(tmp=self.tmp, auth_strategy="keystone" if self.keystone else "noauth2")
        if self.keystone:
            # Placement's own service user validates tokens, with the service role as in deployments.
            self.keystone.create_service_user("placement", "placement-pw", role="service")
            conf += AUTHTOKEN_CONF.format(auth_url=self.keystone.auth_url, user="placement", password="placement-pw")
        with open(os.path.join(self.tmp, "placement.conf"), "w") as f:
            f.write(conf)
        self.port = free_port()
        env = dict(os.environ, OS_PLACEMENT_CONFIG_DIR=self.tmp)
        self._out = open(os.path.join(self.tmp, "gunicorn.out"), "w")
        cmd = [sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:%d" % self.port, "--workers", "1"]
        cmd += ["--threads", "4", "--graceful-timeout", "2", "placement.wsgi.api:application"]
        self.proc = subprocess.Popen(cmd, env=env, stdout=self._out, stderr=subprocess.STDOUT, cwd=self.tmp)
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                with open(os.path.join(self.tmp, "gunicorn.out")) as f:
                    out = f.read()[-3000:]
                self.stop(keep=True)
                raise RuntimeError("placement did not start; gunicorn said:\n%s" % out)
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as resp:
                    if resp.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)

    def stop(self, keep=False):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
            self._out.close()
        if self.tmp and not keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def api(self, method, path, body=None, microversion="1.39"):
        """One request to Placement's API as admin (noauth2); the decoded JSON answer or None."""
        req = urllib.request.Request(self.url + path, method=method)
        req.add_header("X-Auth-Token", "admin")
        req.add_header("OpenStack-API-Version", "placement %s" % microversion)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, data=data, timeout=30) as resp:
                text = resp.read()
        except urllib.error.HTTPError as exc:
            raise AssertionError("placement %s %s: %s %s" % (method, path, exc.code, exc.read()[:500])) from None
        return json.loads(text) if text else None

    # -- seeding helpers, through Placement's own API
    def provider(self, name, uuid, inventories=None):
        """Create a resource provider (uuid = the compute node's) with these inventories."""
        self.api("POST", "/resource_providers", {"name": name, "uuid": uuid})
        if inventories:
            self.set_inventories(uuid, inventories)
        return uuid

    def set_inventories(self, uuid, inventories):
        gen = self.api("GET", "/resource_providers/%s" % uuid)["generation"]
        body = {"resource_provider_generation": gen, "inventories": inventories}
        self.api("PUT", "/resource_providers/%s/inventories" % uuid, body)

    def allocate(self, consumer, allocations, project="p1", user="u1"):
        """PUT /allocations/{consumer}: {provider uuid: {class: amount}}."""
        body = {
            "allocations": {rp: {"resources": res} for rp, res in allocations.items()},
            "project_id": project,
            "user_id": user,
            "consumer_generation": None,
            "consumer_type": "INSTANCE",
        }
        self.api("PUT", "/allocations/%s" % consumer, body)

    def delete_allocations(self, consumer):
        self.api("DELETE", "/allocations/%s" % consumer)


if __name__ == "__main__":  # a manual check: start, show the URL, stop on Enter
    with PlacementServer() as p:
        input("placement at %s, Enter stops it " % p.url)
