"""Stack and server operations for the verify, each one process that waits for its own result.

Runs on the test host (python3-openstacksdk, cloud "testhost"). The `openstack` CLI costs a
Python start and a Keystone token per call (about 1.4 s of CPU), and a poll loop made of CLI calls
took that CPU from the services under test, which share 2 cores with two other clouds in CI. Here
one connection polls.

    python3 cloud_ctl.py state NAME                       {"state": [status, reason] | null}
    python3 cloud_ctl.py wait NAME TIMEOUT                the state once no action is in progress
    python3 cloud_ctl.py delete NAME TIMEOUT              delete if there, wait until gone
    python3 cloud_ctl.py create NAME TEMPLATE TIMEOUT [k=v ...]           rollback disabled, as the CLI
    python3 cloud_ctl.py update NAME TEMPLATE TIMEOUT [--rollback] [k=v ...]
    python3 cloud_ctl.py boot NAME FLAVOR IMAGE TIMEOUT   {"server": Nova's server dict} once ACTIVE/ERROR
    python3 cloud_ctl.py delete-server ID TIMEOUT

Stack states are null once the stack is gone: Heat shows DELETE_COMPLETE for a moment before
it soft-deletes the row, and that counts as gone too.
"""

import json
import sys
import time

import openstack
from openstack import exceptions

POLL = 1


def retried(call):
    """A transient API error (the test host's uwsgi resets a connection now and then): ask again."""
    for attempt in range(5):
        try:
            return call()
        except (exceptions.HttpException, exceptions.SDKException) as err:
            if isinstance(err, exceptions.NotFoundException) or attempt == 4:
                raise
            time.sleep(2)


def stack_state(conn, name):
    try:
        stack = retried(lambda: conn.orchestration.find_stack(name, ignore_missing=True))
    except exceptions.NotFoundException:
        return None
    if stack is None or stack.status == "DELETE_COMPLETE":
        return None
    return [stack.status, stack.status_reason or ""]


def wait_stack(conn, name, timeout):
    deadline = time.monotonic() + timeout
    while True:
        state = stack_state(conn, name)
        if state is None or not state[0].endswith("_IN_PROGRESS"):
            return state
        if time.monotonic() > deadline:
            sys.exit("stack %s still in progress after %ss: %s" % (name, timeout, state))
        time.sleep(POLL)


def delete_stack(conn, name, timeout):
    if stack_state(conn, name) is None:
        return None
    retried(lambda: conn.delete_stack(name, wait=False))
    return wait_stack(conn, name, timeout)


def parameters(args):
    return dict(arg.split("=", 1) for arg in args)


def server_dict(conn, ident):
    # Nova's own JSON (OS-EXT-SRV-ATTR:host, fault), as `openstack server show` prints it.
    return retried(lambda: conn.compute.get("/servers/%s" % ident, microversion="2.37").json()["server"])


def boot(conn, name, flavor, image, timeout):
    """No Heat, no port (--nic none needs compute API 2.37): the filter's ad-hoc path."""
    body = {
        "server": {
            "name": name,
            "flavorRef": conn.compute.find_flavor(flavor, ignore_missing=False).id,
            "imageRef": conn.image.find_image(image, ignore_missing=False).id,
            "networks": "none",
        }
    }
    resp = conn.compute.post("/servers", json=body, microversion="2.37")
    if resp.status_code != 202:
        sys.exit("server create %s: HTTP %s %s" % (name, resp.status_code, resp.text))
    ident = resp.json()["server"]["id"]
    deadline = time.monotonic() + timeout
    while True:
        show = server_dict(conn, ident)
        if show["status"] in ("ACTIVE", "ERROR"):
            return show
        if time.monotonic() > deadline:
            sys.exit("server %s neither ACTIVE nor ERROR after %ss: %s" % (ident, timeout, show["status"]))
        time.sleep(POLL)


def delete_server(conn, ident, timeout):
    server = conn.compute.find_server(ident, ignore_missing=True)
    if server is not None:
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, interval=POLL, wait=timeout)


def main(argv):
    conn = openstack.connect(cloud="testhost")
    verb, name = argv[0], argv[1]
    if verb == "state":
        return {"state": stack_state(conn, name)}
    if verb == "wait":
        return {"state": wait_stack(conn, name, float(argv[2]))}
    if verb == "delete":
        return {"state": delete_stack(conn, name, float(argv[2]))}
    if verb in ("create", "update"):
        template, timeout, rest = argv[2], float(argv[3]), argv[4:]
        rollback = "--rollback" in rest
        params = parameters(a for a in rest if a != "--rollback")
        # The template with its nested templates (files), as the CLI's -t reads them.
        body = conn.orchestration.read_env_and_templates(template_file=template)
        body.update(parameters=params, disable_rollback=not rollback)
        started = time.monotonic()
        if verb == "create":
            resp = conn.orchestration.post("/stacks", json=dict(body, stack_name=name))
        else:
            stack = retried(lambda: conn.orchestration.find_stack(name, ignore_missing=False))
            resp = conn.orchestration.put("/stacks/%s/%s" % (stack.name, stack.id), json=body)
        if resp.status_code not in (201, 202):
            sys.exit("stack %s %s: HTTP %s %s" % (verb, name, resp.status_code, resp.text))
        # The legacy engine sets IN_PROGRESS from a thread after the API returned (as the CLI's
        # --wait, this would otherwise read the state of the previous action).
        time.sleep(1)
        state = wait_stack(conn, name, timeout)
        return {"state": state, "seconds": round(time.monotonic() - started, 1)}
    if verb == "boot":
        return {"server": boot(conn, name, argv[2], argv[3], float(argv[4]))}
    if verb == "delete-server":
        delete_server(conn, name, float(argv[2]))
        return {}
    sys.exit("unknown verb %s" % verb)


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
