"""Helpers for the default scenario's testinfra tests (they run inside the one container)."""

import base64
import json
import pathlib
import shlex

import pytest

FILES = pathlib.Path(__file__).resolve().parent.parent / "files"
EMULATOR = "http://127.0.0.1:8090/_emulator"
HEAT_LOG = "/var/log/heat/heat-engine.log"
NOVA_LOG = "/var/log/nova/nova-scheduler.log"
EMULATOR_LOG = "/var/log/valet-api-emulator.log"


class Cloud:
    def __init__(self, host):
        self.host = host
        self._ctl_copied = False

    def put(self, name, dest=None):
        """Copy a file of extensions/molecule/default/files into the container's /tmp."""
        dest = dest or "/tmp/" + name
        data = base64.b64encode((FILES / name).read_bytes()).decode()
        self.host.check_output(f"echo {data} | base64 -d > {dest}")
        return dest

    def openstack(self, args, check=True):
        cmd = f"OS_CLOUD=testhost openstack {args}"
        return self.host.check_output(cmd) if check else self.host.run(cmd)

    def emulator(self, method, path, body=None):
        """Call the emulator's control API from inside the container (it listens there)."""
        code = (
            "import json,urllib.request as u\n"
            f"r=u.Request({EMULATOR + path!r},method={method!r},"
            f"data={json.dumps(body).encode() if body is not None else None!r},"
            "headers={'Content-Type':'application/json'})\n"
            "print(u.urlopen(r,timeout=10).read().decode() or 'null')\n"
        )
        # base64 keeps the code away from the shell's quoting.
        encoded = base64.b64encode(code.encode()).decode()
        return json.loads(self.host.check_output(f"echo {encoded} | base64 -d | python3"))

    def requests(self):
        return self.emulator("GET", "/requests")["requests"]

    def clear(self):
        self.emulator("DELETE", "/requests")

    def fault(self, mode, delay=0):
        return self.emulator("POST", "/fault", {"mode": mode, "delay": delay})

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


@pytest.fixture
def cloud(host):
    return Cloud(host)
