"""A private MariaDB for tests: mariadb-install-db + mariadbd on a unix socket in a temporary directory."""

import os
import shutil
import subprocess
import tempfile
import time

BINARIES = ("mariadb-install-db", "mariadbd")


def missing():
    """The binaries this machine lacks (tests/install-host-deps.sh installs mariadb-server)."""
    path = os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin"
    return [b for b in BINARIES if shutil.which(b, path=path) is None]


class MariaDB:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="valet-mariadb-")
        self.socket = os.path.join(self.tmp, "mysqld.sock")
        self.proc = None

    def url(self, database="valet"):
        return "mysql+pymysql://root@localhost/%s?unix_socket=%s&charset=utf8mb4" % (database, self.socket)

    def start(self, timeout=60):
        path = os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin"
        datadir = os.path.join(self.tmp, "data")
        user = ["--user=root"] if os.geteuid() == 0 else []
        subprocess.run(
            [
                shutil.which("mariadb-install-db", path=path),
                "--no-defaults",
                "--datadir=" + datadir,
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ]
            + user,
            check=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.log = open(os.path.join(self.tmp, "mariadbd.out"), "w")
        self.proc = subprocess.Popen(
            [
                shutil.which("mariadbd", path=path),
                "--no-defaults",
                "--datadir=" + datadir,
                "--socket=" + self.socket,
                "--skip-networking",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=32M",
                "--log-error=" + os.path.join(self.tmp, "error.log"),
            ]
            + user,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        import pymysql

        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("mariadbd exited with %s; see %s/error.log" % (self.proc.returncode, self.tmp))
            try:
                pymysql.connect(user="root", unix_socket=self.socket).close()
                break
            except pymysql.err.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError("mariadbd did not come up in %ss; see %s" % (timeout, self.tmp)) from None
                time.sleep(0.2)
        return self

    def create_database(self, name):
        import pymysql

        conn = pymysql.connect(user="root", unix_socket=self.socket)
        try:
            with conn.cursor() as cur:
                cur.execute("DROP DATABASE IF EXISTS `%s`" % name)
                cur.execute("CREATE DATABASE `%s` CHARACTER SET utf8mb4" % name)
        finally:
            conn.close()
        return self.url(name)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
