"""A real Keystone (PyPI keystone 30) on loopback, for tests.

Usage::

    with KeystoneServer() as ks:
        sess = ks.admin_session()
        ...

The server runs in a subprocess (this same file with ``--serve``) so that
keystone's global oslo.config state never leaks into the test process, and so
that a crash of Keystone cannot take pytest down with it.  Every request is
appended to ``access.log`` (``METHOD PATH STATUS``) by a small WSGI
middleware, which lets tests count token requests without trusting client-side
bookkeeping.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

BIN_DIR = os.path.dirname(sys.executable)

KEYSTONE_CONF = """\
[DEFAULT]
log_file = {tmp}/keystone.log
use_stderr = false
debug = false

[database]
connection = sqlite:///{tmp}/keystone.db

[token]
provider = fernet

[fernet_tokens]
key_repository = {tmp}/fernet-keys

[fernet_receipts]
key_repository = {tmp}/fernet-keys

[credential]
key_repository = {tmp}/credential-keys

[cache]
enabled = {cache}
backend = dogpile.cache.memory

[identity]
# bcrypt's minimum cost: hashing is the slowest part of each password auth
# and these passwords protect nothing.
password_hash_rounds = 4
"""


class KeystoneServer:
    """A throw-away Keystone with SQLite, fernet tokens and an access log."""

    admin_user = "admin"
    admin_project = "admin"
    region = "RegionOne"

    def __init__(self, admin_password="admin-secret-pw", startup_timeout=120, cache=False):
        # cache=False (the default) keeps every read honest at ~0.25 s per
        # authenticated request; cache=True (in-process memory, all writes go
        # through this one process) is several times faster.
        self.cache = cache
        self.admin_password = admin_password
        self.startup_timeout = startup_timeout
        self.tmp = None
        self.port = None
        self.proc = None
        self.startup_seconds = None

    # -- lifecycle -----------------------------------------------------
    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def auth_url(self):
        return self.url + "/v3"

    @property
    def conf_path(self):
        return os.path.join(self.tmp, "keystone.conf")

    @property
    def access_log(self):
        return os.path.join(self.tmp, "access.log")

    def _manage_cmd(self, *args):
        return [os.path.join(BIN_DIR, "keystone-manage"), "--config-file", self.conf_path] + list(args)

    @staticmethod
    def _finish(proc, what):
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError("keystone-manage %s failed (%d):\n%s" % (what, proc.returncode, out))

    def _manage(self, *args):
        proc = subprocess.Popen(self._manage_cmd(*args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._finish(proc, " ".join(args))

    def start(self):
        started = time.monotonic()
        self.tmp = tempfile.mkdtemp(prefix="keystone-fixture-")
        with open(self.conf_path, "w") as f:
            f.write(KEYSTONE_CONF.format(tmp=self.tmp, cache=str(bool(self.cache)).lower()))
        open(self.access_log, "w").close()

        # The child binds port 0 and reports the port it got: no window in
        # which another process could grab a port we picked.  It starts first
        # because importing keystone is the slow part (it waits for go_file
        # before building the app).
        port_file = os.path.join(self.tmp, "port")
        go_file = os.path.join(self.tmp, "setup-done")
        self._server_out = open(os.path.join(self.tmp, "server.out"), "w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                os.path.abspath(__file__),
                "--serve",
                "--keystone-conf",
                self.conf_path,
                "--access-log",
                self.access_log,
                "--port-file",
                port_file,
                "--go-file",
                go_file,
            ],
            stdout=self._server_out,
            stderr=subprocess.STDOUT,
        )

        # The key repositories are independent of the schema: set them up
        # while db_sync runs.
        user = "root" if os.geteuid() == 0 else str(os.geteuid())
        group = "root" if os.geteuid() == 0 else str(os.getegid())
        side = [
            (
                subprocess.Popen(
                    self._manage_cmd(cmd, "--keystone-user", user, "--keystone-group", group),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                ),
                cmd,
            )
            for cmd in ("fernet_setup", "credential_setup")
        ]
        self._manage("db_sync")
        for proc, cmd in side:
            self._finish(proc, cmd)
        open(go_file, "w").close()

        deadline = time.monotonic() + self.startup_timeout
        while not (os.path.exists(port_file) and os.path.getsize(port_file)):
            self._check_alive(deadline)
            time.sleep(0.05)
        with open(port_file) as f:
            self.port = int(f.read().strip())

        # bootstrap needs our own URL for the identity endpoints, so it runs
        # once the port is known; the app reads the database per request.
        self._manage(
            "bootstrap",
            "--bootstrap-username",
            self.admin_user,
            "--bootstrap-password",
            self.admin_password,
            "--bootstrap-project-name",
            self.admin_project,
            "--bootstrap-role-name",
            "admin",
            "--bootstrap-service-name",
            "keystone",
            "--bootstrap-region-id",
            self.region,
            "--bootstrap-public-url",
            self.auth_url,
            "--bootstrap-internal-url",
            self.auth_url,
            "--bootstrap-admin-url",
            self.auth_url,
        )
        while True:
            self._check_alive(deadline)
            try:
                with urllib.request.urlopen(self.auth_url, timeout=5) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)
        self.startup_seconds = time.monotonic() - started
        return self

    def _check_alive(self, deadline):
        if self.proc.poll() is not None:
            raise RuntimeError(
                "keystone server exited with %s; see %s/server.out and keystone.log" % (self.proc.returncode, self.tmp)
            )
        if time.monotonic() > deadline:
            self.stop(keep=True)
            raise RuntimeError("keystone did not come up in %ss; see %s" % (self.startup_timeout, self.tmp))

    def stop(self, keep=False):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if getattr(self, "_server_out", None):
            self._server_out.close()
            self._server_out = None
        if self.tmp and not keep and not os.environ.get("KEYSTONE_FIXTURE_KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- observation ---------------------------------------------------
    def requests(self):
        """Access log as a list of dicts {method, path, status}."""
        out = []
        with open(self.access_log) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3:
                    out.append({"method": parts[0], "path": parts[1], "status": int(parts[2])})
        return out

    def token_requests(self):
        """How many POST /v3/auth/tokens (password or token auth) so far."""
        return sum(1 for r in self.requests() if r["method"] == "POST" and r["path"].rstrip("/") == "/v3/auth/tokens")

    # -- clients -------------------------------------------------------
    def admin_session(self):
        from keystoneauth1 import session
        from keystoneauth1.identity import v3

        auth = v3.Password(
            auth_url=self.auth_url,
            username=self.admin_user,
            password=self.admin_password,
            project_name=self.admin_project,
            user_domain_name="Default",
            project_domain_name="Default",
        )
        return session.Session(auth=auth)

    def admin_client(self):
        from keystoneclient.v3 import client

        return client.Client(session=self.admin_session(), interface="public")

    def auth_dict(self):
        """The ``auth`` dict an OpenStack Ansible module takes."""
        return {
            "auth_url": self.auth_url,
            "username": self.admin_user,
            "password": self.admin_password,
            "project_name": self.admin_project,
            "user_domain_name": "Default",
            "project_domain_name": "Default",
        }

    def create_service_user(self, name, password, project="service", role="admin"):
        """Ensure project, user (with this password) and role assignment exist."""
        kc = self.admin_client()
        domain = kc.domains.get("default")
        projects = kc.projects.list(name=project, domain=domain)
        proj = projects[0] if projects else kc.projects.create(project, domain)
        users = kc.users.list(name=name, domain=domain)
        if users:
            user = kc.users.update(users[0], password=password)
        else:
            user = kc.users.create(name, domain=domain, password=password, default_project=proj)
        roles = kc.roles.list(name=role)
        rol = roles[0] if roles else kc.roles.create(role)
        kc.roles.grant(rol, user=user, project=proj)
        return user


# -- the subprocess side ------------------------------------------------
class AccessLog:
    """WSGI middleware: one line per request, written when the status is known."""

    def __init__(self, app, path):
        self.app = app
        self.path = path

    def __call__(self, environ, start_response):
        def logging_start_response(status, headers, exc_info=None):
            with open(self.path, "a") as f:
                f.write(
                    "%s %s %s\n" % (environ.get("REQUEST_METHOD"), environ.get("PATH_INFO") or "/", status.split()[0])
                )
            return start_response(status, headers, exc_info)

        return self.app(environ, logging_start_response)


def _serve(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--keystone-conf", required=True)
    parser.add_argument("--access-log", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--go-file", required=True)
    args = parser.parse_args(argv)

    os.environ["OS_KEYSTONE_CONFIG_DIR"] = os.path.dirname(args.keystone_conf)
    os.environ["OS_KEYSTONE_CONFIG_FILES"] = os.path.basename(args.keystone_conf)
    # keystone parses sys.argv with oslo.config: hide our own options from it.
    sys.argv = sys.argv[:1]
    from keystone.server import wsgi
    from werkzeug.serving import make_server

    # Importing is the slow part and overlaps with the parent's setup; the
    # application itself wants the key repositories, so wait for them.
    while not os.path.exists(args.go_file):
        time.sleep(0.05)
    app = AccessLog(wsgi.initialize_public_application(), args.access_log)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_port))
    os.rename(tmp, args.port_file)  # atomic: the parent never reads half a number

    # If pytest is killed without stopping us, do not outlive it as an orphan.
    parent = os.getppid()

    def watch_parent():
        while os.getppid() == parent:
            time.sleep(1)
        server.shutdown()

    threading.Thread(target=watch_parent, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    if "--serve" in sys.argv:
        _serve(sys.argv[1:])
    else:
        # Manual use: start one and keep it running until Ctrl-C.
        with KeystoneServer() as ks:
            print(
                "keystone up in %.1fs at %s (admin/%s); dir %s"
                % (ks.startup_seconds, ks.auth_url, ks.admin_password, ks.tmp),
                flush=True,
            )
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
