"""Helpers for the default scenario's testinfra tests (they run inside the one container)."""

import base64
import json
import pathlib
import time

import pytest

FILES = pathlib.Path(__file__).resolve().parent.parent / "files"
EMULATOR = "http://127.0.0.1:8090/_emulator"
HEAT_LOG = "/var/log/heat/heat-engine.log"
NOVA_LOG = "/var/log/nova/nova-scheduler.log"
EMULATOR_LOG = "/var/log/valet-api-emulator.log"


class Cloud:
    def __init__(self, host):
        self.host = host

    def put(self, name, dest=None):
        """Copy a file of molecule/default/files into the container's /tmp."""
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

    # Stacks are polled with `stack show` rather than the CLI's --wait: that follows the event list
    # and has both returned early and died on one connection reset of the test host's uwsgi heat-api.
    def stack_state(self, name):
        """(status, reason) of stack `name`, or None when there is none."""
        for _ in range(5):
            res = self.openstack(f"stack show -f json {name}", check=False)
            if res.rc == 0:
                show = json.loads(res.stdout)
                return show["stack_status"], show.get("stack_status_reason") or ""
            if "Stack not found" in res.stderr + res.stdout:
                return None
            time.sleep(2)  # a transient API error: ask again
        pytest.fail(f"stack show {name} kept failing: {res.stderr}")

    def wait_stack(self, name, timeout=300):
        """The stack's state once no action is in progress (None once deleted)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.stack_state(name)
            if state is None or not state[0].endswith("_IN_PROGRESS"):
                return state
            time.sleep(1)
        pytest.fail(f"stack {name} still in progress after {timeout}s: {state}")

    def delete_stack(self, name):
        """Delete and wait; returns the state left (None: gone)."""
        if self.stack_state(name) is None:
            return None
        self.openstack(f"stack delete -y {name}", check=False)
        state = self.wait_stack(name)
        # Heat shows DELETE_COMPLETE for a moment before it soft-deletes the row: gone as well.
        return None if state is None or state[0] == "DELETE_COMPLETE" else state

    def create_stack(self, template, name):
        """Create and wait; returns (status, reason, seconds)."""
        leftover = self.delete_stack(name)
        assert leftover is None, f"an earlier stack {name} could not be deleted: {leftover}"
        started = time.monotonic()
        res = self.openstack(f"stack create -t {template} {name}", check=False)
        state = self.wait_stack(name)
        elapsed = time.monotonic() - started
        assert state is not None, f"stack create {name} made no stack: {res.stderr}"
        return state[0], state[1], elapsed

    def log_size(self, path):
        return int(self.host.check_output(f"stat -c %s {path}"))

    def log_since(self, path, offset):
        return self.host.check_output(f"tail -c +{offset + 1} {path}")


@pytest.fixture
def cloud(host):
    return Cloud(host)
