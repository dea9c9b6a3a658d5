"""Helpers for the default scenario's testinfra tests (they run inside the one container)."""

import base64
import json
import pathlib
import re
import shlex
import time

import pytest

FILES = pathlib.Path(__file__).resolve().parent.parent / "files"
HEAT_LOG = "/var/log/heat/heat-engine.log"
NOVA_LOG = "/var/log/nova/nova-scheduler.log"
# The real valet-api as roles/valet_api left it (uwsgi under its init script, SQLite).
VALET_API = "http://127.0.0.1:8090"
VALET_API_LOG = "/var/log/valet/valet-api.log"
VALET_DB = "/var/lib/valet/valet.sqlite"
# The venv scenario runs test_heat_engines.py with this conftest against the emulator (its test host
# keeps it): what valet-api was asked then comes from the emulator's record.
EMULATOR = "http://127.0.0.1:8090/_emulator"
# uwsgi's request log line: "... [date] POST /v1/plans => generated 188 bytes in 70 msecs (HTTP/1.1 201) ..."
REQUEST_LINE = re.compile(r"\] (GET|POST|PUT|DELETE) (/\S*) => generated .*? \(HTTP/[0-9.]+ (\d{3})\)")


def valet_call(host, method, path, body=None, token=True):
    """(status, JSON body, or the text of a body that is not JSON) of a request to valet-api from inside the
    container, as the Valet user."""
    code = (
        "import json,sys,urllib.request as u,urllib.error as e\n"
        "tok=None\n"
        f"if {token!r}:\n"
        "    a={'auth':{'identity':{'methods':['password'],'password':{'user':{'name':'valet',"
        "'domain':{'name':'Default'},'password':'valet-molecule-secret'}}},"
        "'scope':{'project':{'name':'service','domain':{'name':'Default'}}}}}\n"
        "    r=u.urlopen(u.Request('http://127.0.0.1:5000/v3/auth/tokens',data=json.dumps(a).encode(),"
        "headers={'Content-Type':'application/json'}),timeout=30)\n"
        "    tok=r.headers['X-Subject-Token']\n"
        f"req=u.Request({VALET_API + path!r},method={method!r},"
        f"data={json.dumps(body).encode() if body is not None else None!r},"
        "headers=dict({'Content-Type':'application/json'},**({'X-Auth-Token':tok} if tok else {})))\n"
        "try:\n"
        "    r=u.urlopen(req,timeout=30); s=r.status; b=r.read()\n"
        "except e.HTTPError as x:\n"
        "    s=x.code; b=x.read()\n"
        # A load balancer's own error page (haproxy's 502/503 while a valet-api host stops) is not JSON.
        "try:\n"
        "    j=json.loads(b) if b else None\n"
        "except ValueError:\n"
        "    j=b.decode(errors='replace')[:300]\n"
        "print(json.dumps([s, j]))\n"
    )
    # base64 keeps the code away from the shell's quoting. The command carries the Valet user's
    # password (encoded, not hidden), so a failure reports its exit code and stderr, never the command.
    encoded = base64.b64encode(code.encode()).decode()
    result = host.run(f"echo {encoded} | base64 -d | python3")
    if result.rc != 0:
        raise AssertionError(f"valet-api request {method} {path} failed, rc {result.rc}: {result.stderr}")
    return json.loads(result.stdout)


class Cloud:
    def __init__(self, host):
        self.host = host
        self._ctl_copied = False
        self._asked_from = 0

    def _real_valet_api(self):
        return self.host.file(VALET_API_LOG).exists

    def clear(self):
        """Forget what valet-api was asked so far (requests() starts here)."""
        if self._real_valet_api():
            self._asked_from = self.log_size(VALET_API_LOG)
        else:
            self._emulator("DELETE", "/requests")

    def requests(self):
        """[{method, path}] valet-api answered since clear(): the real one's request log (with the
        status it answered), or the emulator's record."""
        if self._real_valet_api():
            found = REQUEST_LINE.findall(self.log_since(VALET_API_LOG, self._asked_from))
            return [{"method": m, "path": p, "status": int(code)} for m, p, code in found]
        return [{"method": r["method"], "path": r["path"]} for r in self._emulator("GET", "/requests")["requests"]]

    def listens(self):
        port = VALET_API.rsplit(":", 1)[1]
        probe = f"python3 -c \"import socket;socket.create_connection(('127.0.0.1',{port}),1)\""
        return self.host.run(probe).rc == 0

    def stop_valet_api(self):
        """valet-api down: nothing listens on its port any more (connection refused)."""
        if self._real_valet_api():
            self.host.check_output("service valet-api stop")
        else:
            self.host.check_output("kill $(pgrep -f '^python3 /usr/local/lib/valet-testhost/valet_api_emulator.py')")
        for _attempt in range(50):
            if not self.listens():
                return
            time.sleep(0.2)
        pytest.fail("valet-api did not stop")

    def start_valet_api(self):
        if self._real_valet_api():
            self.host.check_output("service valet-api start")
        else:
            self.host.check_output("/usr/local/sbin/testhost-up infra")
        for _attempt in range(120):
            if self.listens():
                return
            time.sleep(0.5)
        pytest.fail("valet-api did not start")

    def _emulator(self, method, path):
        code = (
            "import json,urllib.request as u\n"
            f"r=u.Request({EMULATOR + path!r},method={method!r})\n"
            "print(u.urlopen(r,timeout=10).read().decode() or 'null')\n"
        )
        encoded = base64.b64encode(code.encode()).decode()
        return json.loads(self.host.check_output(f"echo {encoded} | base64 -d | python3"))

    def put(self, name, dest=None):
        """Copy a file of extensions/molecule/default/files into the container's /tmp."""
        dest = dest or "/tmp/" + name
        data = base64.b64encode((FILES / name).read_bytes()).decode()
        self.host.check_output(f"echo {data} | base64 -d > {dest}")
        return dest

    def openstack(self, args, check=True):
        cmd = f"OS_CLOUD=testhost openstack {args}"
        return self.host.check_output(cmd) if check else self.host.run(cmd)

    def valet(self, method, path, body=None):
        """(status, body) of a valet-api request as the Valet user."""
        return valet_call(self.host, method, path, body)

    def plan(self, ident):
        """valet-api's plan for a stack or a server's ad-hoc plan (by its id), or None."""
        status, body = self.valet("GET", "/v1/plans/" + ident)
        assert status in (200, 404), (status, body)
        return body["plan"] if status == 200 else None

    def exclusive_hosts(self):
        """{host: exclusivity group} as valet-api's database holds them (no API lists hosts)."""
        code = (
            f"import json,sqlite3;c=sqlite3.connect('file:{VALET_DB}?mode=ro',uri=True);"
            "print(json.dumps(dict(c.execute('select name, exclusive from hosts where exclusive is not null'))))"
        )
        return json.loads(self.host.check_output(f'python3 -c "{code}"'))

    # Stacks and servers go through files/cloud_ctl.py: one process per operation that polls on one
    # connection, where a loop of `openstack` CLI calls paid a Python start and a token (CPU) each time.
    def ctl(self, *args):
        if not self._ctl_copied:
            self.put("cloud_ctl.py")
            self._ctl_copied = True
        argv = " ".join(shlex.quote(str(arg)) for arg in args)
        return json.loads(self.host.check_output(f"python3 /tmp/cloud_ctl.py {argv}"))

    def stack_state(self, name):
        """(status, reason) of stack `name`, or None when there is none."""
        return _state(self.ctl("state", name)["state"])

    def wait_stack(self, name, timeout=300):
        """The stack's state once no action is in progress (None once deleted)."""
        return _state(self.ctl("wait", name, timeout)["state"])

    def delete_stack(self, name, timeout=300):
        """Delete and wait; returns the state left (None: gone)."""
        return _state(self.ctl("delete", name, timeout)["state"])

    def run_stack(self, verb, name, template, params=(), rollback=False, timeout=300):
        """stack create/update and wait; returns (status, reason, seconds)."""
        extra = ["--rollback"] if rollback else []
        out = self.ctl(verb, name, template, timeout, *extra, *params)
        assert out["state"] is not None, f"stack {verb} {name} left no stack"
        return out["state"][0], out["state"][1], out["seconds"]

    def create_stack(self, template, name):
        """Create and wait (after removing a leftover of an earlier run); returns (status, reason, seconds)."""
        leftover = self.delete_stack(name)
        assert leftover is None, f"an earlier stack {name} could not be deleted: {leftover}"
        return self.run_stack("create", name, template)

    def log_size(self, path):
        return int(self.host.check_output(f"stat -c %s {path}"))

    def log_since(self, path, offset):
        return self.host.check_output(f"tail -c +{offset + 1} {path}")


def _state(state):
    return tuple(state) if state is not None else None


def pytest_configure(config):
    # The fault tests prove how the plugins' client meets a stopped, hung or refusing valet-api; that
    # client is the same code on every release, so tests/molecule-suite.sh runs them on bookworm only
    # (-m "not faults" on the other releases, where every other test of the scenario still runs).
    config.addinivalue_line("markers", "faults: valet-api fault tests, run on one release (molecule-suite.sh)")


@pytest.fixture
def cloud(host):
    return Cloud(host)
