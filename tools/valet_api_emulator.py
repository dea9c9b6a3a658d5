#!/usr/bin/env python3
"""A stand-in for valet-api, for tests, the demo and the test hosts.

Standard library only (Python 3.9+), so it runs on a bare Debian 12 with python3.
It speaks valet-api's REST contract (plans, placements, groups, status), places
servers with simple affinity / diversity / exclusivity rules, records every
request, and can be told to misbehave (500s, slowness, refused connections, 401s).

    python3 tools/valet_api_emulator.py --host 127.0.0.1 --port 8090 [--log FILE] [--hosts H1,H2,...]

It does not validate tokens against Keystone: it only insists that one is sent.
Racks: a host belongs to the rack named by its name up to the last "-"
(r1-h2 is in rack r1); a host name without "-" is a rack of its own.
With --hosts (the datacenter valet-api knows) a stack's plan is placed whole when it is
created, by a search that honours every group at once, and refused (409) when no
placement exists; Nova's placement requests then confirm the planned host, or replan one
server among Nova's candidates. Without --hosts each server is placed when Nova asks.
"""

import argparse
import collections
import http.server
import json
import socket
import sys
import threading
import time
import uuid as uuidlib

FAULT_MODES = ("none", "error500", "slow", "refuse", "unauthorized")
GROUP_ASSIGNMENT = "ATT::Valet::GroupAssignment"
GROUP_TYPES = ("affinity", "diversity", "exclusivity")
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    500: "Internal Server Error",
}


class ApiError(Exception):
    def __init__(self, code, explanation):
        super().__init__(explanation)
        self.code = code
        self.explanation = explanation


def rack_of(host):
    return host.rsplit("-", 1)[0] if "-" in host else host


def _new_id():
    return str(uuidlib.uuid4())


class State:
    """Plans, placements and groups; every method runs under the emulator's lock."""

    # Most placements the whole-plan search tries before it gives up (a plan it cannot place
    # is refused either way; this only bounds the time a hopeless one takes).
    SEARCH_BUDGET = 50000

    def __init__(self, hosts=()):
        self.hosts = list(dict.fromkeys(hosts))  # the datacenter, when known
        self.plans = {}  # plan id -> plan dict
        self.placements = {}  # orchestration id (resource uuid) -> placement dict
        self.groups = {}  # group id -> group dict
        self.reserved = {}  # host -> exclusivity group name

    # -- plans -----------------------------------------------------------------------------

    def find_plan(self, ident):
        plan = self.plans.get(ident)
        if plan is None:
            plan = next((p for p in self.plans.values() if p["stack_id"] == ident), None)
        if plan is None:
            raise ApiError(404, "plan %s not found" % ident)
        return plan

    def plan_view(self, plan):
        view = dict(plan)
        view["placements"] = {
            u: {"location": self.placements[u]["location"], "name": plan["resources"][u].get("name")}
            for u in plan["resources"]
            if u in self.placements
        }
        return view

    def create_plan(self, body):
        name = body.get("plan_name")
        resources = body.get("resources")
        if not name or not isinstance(resources, dict):
            raise ApiError(400, "plan_name and a resources mapping are required")
        stack_id = body.get("stack_id") or _new_id()
        if any(p["stack_id"] == stack_id for p in self.plans.values()):
            raise ApiError(409, "a plan for stack %s already exists" % stack_id)
        self._check_resources(resources)
        plan = {
            "id": _new_id(),
            "name": name,
            "stack_id": stack_id,
            "timeout": body.get("timeout"),
            "resources": resources,
            # The stack's (or server's) owner as the plugin says; absent: the token's project.
            "project_id": body.get("project_id"),
        }
        self.plans[plan["id"]] = plan
        locations = body.get("locations")
        try:
            if locations:
                for res_uuid in self._servers(plan):
                    self.place(plan, res_uuid, locations)
            elif self.hosts:
                self.place_whole(plan, self._servers(plan))
        except ApiError:
            self.delete_plan(plan["id"])
            raise
        return self.plan_view(plan)

    def update_plan(self, ident, body):
        plan = self.find_plan(ident)
        action = body.get("action")
        if action != "update":
            raise ApiError(400, "unsupported plan action %r (expected 'update')" % action)
        resources = body.get("resources")
        if not isinstance(resources, dict):
            raise ApiError(400, "a resources mapping is required")
        self._check_resources(resources)
        for gone in set(plan["resources"]) - set(resources):
            self._unplace(gone)
        previous = plan["resources"]
        plan["resources"] = resources
        new = [u for u in self._servers(plan) if u not in self.placements]
        if self.hosts and new:
            try:
                self.place_whole(plan, new)
            except ApiError:
                plan["resources"] = previous
                raise
        return self.plan_view(plan)

    def delete_plan(self, ident):
        plan = self.find_plan(ident)
        for res_uuid in plan["resources"]:
            self._unplace(res_uuid)
        del self.plans[plan["id"]]

    @staticmethod
    def _check_resources(resources):
        for res_uuid, res in resources.items():
            if not isinstance(res, dict) or "type" not in res:
                raise ApiError(400, "resource %s has no type" % res_uuid)
            if res["type"] == GROUP_ASSIGNMENT:
                props = res.get("properties") or {}
                if props.get("group_type") not in GROUP_TYPES:
                    raise ApiError(
                        400, "resource %s: group_type must be one of %s" % (res_uuid, ", ".join(GROUP_TYPES))
                    )
                if props.get("level", "host") not in ("host", "rack"):
                    raise ApiError(400, "resource %s: level must be host or rack" % res_uuid)
                if props.get("group_type") == "exclusivity" and not props.get("group_name"):
                    raise ApiError(400, "resource %s: exclusivity needs a group_name" % res_uuid)

    @staticmethod
    def _servers(plan):
        return [u for u, r in plan["resources"].items() if r["type"] != GROUP_ASSIGNMENT]

    # -- placement -------------------------------------------------------------------------

    def _members(self, plan, group_uuid, seen=None):
        """Server uuids of a group, following nested group assignments."""
        seen = set() if seen is None else seen
        if group_uuid in seen:
            return set()
        seen.add(group_uuid)
        out = set()
        for member in (plan["resources"][group_uuid].get("properties") or {}).get("resources") or []:
            res = plan["resources"].get(member)
            if res is not None and res["type"] == GROUP_ASSIGNMENT:
                out |= self._members(plan, member, seen)
            elif res is not None:
                out.add(member)
        return out

    def _groups_of(self, plan, res_uuid):
        """(properties, other servers the rule applies against) for each group holding res_uuid.

        A group's members may be groups: the rule applies between its members, so
        for diversity the servers of res_uuid's own member group are not "others".
        """
        for g_uuid, res in plan["resources"].items():
            if res["type"] != GROUP_ASSIGNMENT or res_uuid not in self._members(plan, g_uuid):
                continue
            props = res.get("properties") or {}
            others = set()
            for member in props.get("resources") or []:
                sub = plan["resources"].get(member)
                if sub is None:
                    continue
                servers = self._members(plan, member) if sub["type"] == GROUP_ASSIGNMENT else {member}
                if res_uuid not in servers:
                    others |= servers
                elif props.get("group_type") != "diversity":
                    others |= servers - {res_uuid}
            yield props, others

    def _allowed(self, plan, res_uuid, locations, where, reserved):
        """(hosts among locations that res_uuid's groups allow, its exclusivity group names).

        where: {resource uuid: host} of the servers placed so far; reserved: {host: group name}.
        """
        candidates = list(dict.fromkeys(locations))
        own_group_names = set()
        for props, others in self._groups_of(plan, res_uuid):
            level = rack_of if props.get("level") == "rack" else (lambda h: h)
            used = {level(where[o]) for o in others if o in where}
            kind = props.get("group_type")
            if kind == "affinity" and used:
                candidates = [h for h in candidates if level(h) in used]
            elif kind == "diversity":
                candidates = [h for h in candidates if level(h) not in used]
            elif kind == "exclusivity":
                name = props.get("group_name")
                own_group_names.add(name)
                # A host becomes the group's only while nobody else is on it.
                candidates = [
                    h
                    for h in candidates
                    if reserved.get(h) == name
                    or (h not in reserved and not any(loc == h for u, loc in where.items() if u != res_uuid))
                ]
        # Hosts reserved for an exclusivity group take only that group's members.
        candidates = [h for h in candidates if h not in reserved or reserved[h] in own_group_names]
        return candidates, own_group_names

    def _where(self, skip=()):
        return {u: p["location"] for u, p in self.placements.items() if u not in skip}

    @staticmethod
    def _by_load(candidates, where, res_uuid):
        """Emptiest host first; ties keep the caller's order (Nova's, or the datacenter's)."""
        load = collections.Counter(loc for u, loc in where.items() if u != res_uuid)
        return sorted(candidates, key=lambda h: load[h])

    def _record(self, plan, res_uuid, host):
        previous = self.placements.get(res_uuid, {})
        self.placements[res_uuid] = {
            "id": previous.get("id") or _new_id(),
            "orchestration_id": res_uuid,
            "resource_id": previous.get("resource_id"),
            "project_id": previous.get("project_id") or plan.get("project_id"),
            "plan_id": plan["id"],
            "name": plan["resources"][res_uuid].get("name"),
            "location": host,
        }
        return self.placements[res_uuid]

    def place(self, plan, res_uuid, locations):
        """Choose a host among locations for one server of plan, honouring its groups."""
        where = self._where()
        candidates, own_group_names = self._allowed(plan, res_uuid, locations, where, self.reserved)
        if not candidates:
            raise ApiError(
                409,
                "no host among %s satisfies the groups of resource %s" % (", ".join(locations) or "(none)", res_uuid),
            )
        host = self._by_load(candidates, where, res_uuid)[0]
        for name in own_group_names:
            self.reserved[host] = name
        return self._record(plan, res_uuid, host)

    def place_whole(self, plan, servers):
        """Place servers of plan on the known hosts at once, every group holding (or 409).

        Depth-first over the servers, exclusivity members and the most grouped first,
        emptiest host first; the other placements and reservations stay as they are.
        """
        order = sorted(
            servers,
            key=lambda u: (
                not any(props.get("group_type") == "exclusivity" for props, _others in self._groups_of(plan, u)),
                -len(list(self._groups_of(plan, u))),
                plan["resources"][u].get("name") or u,
            ),
        )
        budget = [self.SEARCH_BUDGET]

        def search(i, where, reserved):
            if i == len(order):
                return where, reserved
            res_uuid = order[i]
            candidates, own = self._allowed(plan, res_uuid, self.hosts, where, reserved)
            for host in self._by_load(candidates, where, res_uuid):
                budget[0] -= 1
                if budget[0] < 0:
                    return None
                # A host holds one exclusivity group's servers: reserve it for this server's group.
                found = search(
                    i + 1, dict(where, **{res_uuid: host}), dict(reserved, **({host: next(iter(own))} if own else {}))
                )
                if found:
                    return found
            return None

        found = search(0, self._where(skip=servers), dict(self.reserved))
        if found is None:
            raise ApiError(
                409, "no placement of plan %s on hosts %s satisfies its groups" % (plan["name"], ", ".join(self.hosts))
            )
        where, self.reserved = found
        for res_uuid in servers:
            self._record(plan, res_uuid, where[res_uuid])

    def _unplace(self, res_uuid):
        placement = self.placements.pop(res_uuid, None)
        if placement is None:
            return
        host = placement["location"]
        if host in self.reserved and not any(p["location"] == host for p in self.placements.values()):
            del self.reserved[host]

    def find_placement(self, ident):
        if ident in self.placements:
            return self.placements[ident]
        for p in self.placements.values():
            if p["id"] == ident:
                return p
        raise ApiError(404, "placement %s not found" % ident)

    def request_placement(self, res_uuid, body):
        """POST /placements/{uuid}: confirm the planned host, or replan among locations."""
        plan = next((p for p in self.plans.values() if res_uuid in p["resources"]), None)
        if plan is None:
            raise ApiError(404, "no plan knows resource %s" % res_uuid)
        locations = body.get("locations") or []
        if not isinstance(locations, list) or not locations:
            raise ApiError(400, "locations must be a non-empty list of host names")
        current = self.placements.get(res_uuid)
        if current is None or current["location"] not in locations:
            current = self.place(plan, res_uuid, locations)
        if body.get("resource_id"):
            current["resource_id"] = body["resource_id"]
        if body.get("project_id"):
            current["project_id"] = body["project_id"]
        return current

    # -- groups ----------------------------------------------------------------------------

    def find_group(self, ident):
        group = self.groups.get(ident) or next((g for g in self.groups.values() if g["name"] == ident), None)
        if group is None:
            raise ApiError(404, "group %s not found" % ident)
        return group

    def create_group(self, body):
        name, kind = body.get("name"), body.get("type", "exclusivity")
        if not name:
            raise ApiError(400, "a group needs a name")
        if kind not in GROUP_TYPES:
            raise ApiError(400, "group type must be one of %s" % ", ".join(GROUP_TYPES))
        if any(g["name"] == name for g in self.groups.values()):
            raise ApiError(409, "group %s already exists" % name)
        group = {"id": _new_id(), "name": name, "type": kind, "description": body.get("description", ""), "members": []}
        self.groups[group["id"]] = group
        return group


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "valet-api-emulator/1.0"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        log = self.server.emulator.log_file
        if log is not None:
            log.write("%s - %s\n" % (self.address_string(), fmt % args))
            log.flush()

    # -- plumbing --------------------------------------------------------------------------

    def _send(self, code, payload=None, text=None):
        if text is not None:
            data, ctype = text.encode(), "text/plain; charset=utf-8"
        elif payload is not None:
            data, ctype = json.dumps(payload).encode(), "application/json"
        else:
            data, ctype = b"", None
        self.send_response(code)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    def _error(self, code, explanation):
        title = TITLES.get(code, "Error")
        self._send(
            code,
            {
                "title": title,
                "explanation": explanation,
                "code": code,
                "error": {"message": explanation, "type": title.replace(" ", "")},
            },
        )

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise ApiError(400, "request body is not JSON") from None

    def _handle(self):
        emu = self.server.emulator
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        try:
            body = self._body()
        except ApiError as exc:
            return self._error(exc.code, exc.explanation)
        if path.startswith("/_emulator"):
            return self._control(path, body)
        emu.record(self.command, path, bool(self.headers.get("X-Auth-Token")), body)
        mode, delay = emu.fault
        if mode == "refuse":
            # Drop the connection without a byte of reply.
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if mode == "slow":
            time.sleep(delay)
        if path == "/":
            return self._send(200, emu.versions())
        if not (path == "/v1" or path.startswith("/v1/")):
            return self._error(404, "no such resource: %s" % path)
        if mode == "unauthorized" or not self.headers.get("X-Auth-Token"):
            return self._send(
                401,
                text="401 Unauthorized\n\nThis server could not verify that "
                "you are authorized to access the document you requested.",
            )
        if mode == "error500":
            return self._error(500, "valet-api emulator: injected internal error")
        try:
            with emu.lock:
                code, payload = self._route(emu.state, self.command, path[3:].strip("/").split("/"), body or {})
        except ApiError as exc:
            return self._error(exc.code, exc.explanation)
        self._send(code, payload)

    def _route(self, st, method, parts, body):
        head, rest = parts[0], parts[1:]
        if head == "status" and not rest:
            if method in ("GET", "HEAD"):
                return (200 if method == "GET" else 204), (
                    {"status": {"valet-api": "ok", "plans": len(st.plans)}} if method == "GET" else None
                )
        elif head == "plans":
            if not rest:
                if method == "GET":
                    return 200, {"plans": [st.plan_view(p) for p in st.plans.values()]}
                if method == "POST":
                    return 201, {"plan": st.create_plan(body)}
            elif len(rest) == 1:
                if method == "GET":
                    return 200, {"plan": st.plan_view(st.find_plan(rest[0]))}
                if method == "PUT":
                    return 200, {"plan": st.update_plan(rest[0], body)}
                if method == "DELETE":
                    st.delete_plan(rest[0])
                    return 204, None
        elif head == "placements":
            if not rest and method == "GET":
                return 200, {"placements": list(st.placements.values())}
            if len(rest) == 1:
                if method == "GET":
                    return 200, {"placement": st.find_placement(rest[0])}
                if method == "POST":
                    return 201, {"placement": st.request_placement(rest[0], body)}
                if method == "DELETE":
                    st._unplace(st.find_placement(rest[0])["orchestration_id"])
                    return 204, None
        elif head == "groups":
            return self._groups(st, method, rest, body)
        elif head == "" and method == "GET":
            return 200, {"version": "v1"}
        raise ApiError(
            405 if head in ("status", "plans", "placements") else 404,
            "%s /v1/%s is not supported" % (method, "/".join(parts)),
        )

    @staticmethod
    def _groups(st, method, rest, body):
        if not rest:
            if method == "GET":
                return 200, {"groups": list(st.groups.values())}
            if method == "POST":
                return 201, {"group": st.create_group(body)}
        elif len(rest) == 1:
            group = st.find_group(rest[0])
            if method == "GET":
                return 200, {"group": group}
            if method == "PUT":
                if "description" in body:
                    group["description"] = body["description"]
                return 200, {"group": group}
            if method == "DELETE":
                if group["members"]:
                    raise ApiError(409, "group %s still has members" % group["name"])
                del st.groups[group["id"]]
                return 204, None
        elif rest[1:] == ["members"]:
            group = st.find_group(rest[0])
            if method == "GET":
                return 200, {"members": group["members"]}
            if method in ("PUT", "POST"):
                members = body.get("members")
                if not isinstance(members, list):
                    raise ApiError(400, "members must be a list of project ids")
                group["members"] = list(dict.fromkeys(group["members"] + members))
                return 201 if method == "POST" else 200, {"group": group}
            if method == "DELETE":
                group["members"] = []
                return 204, None
        elif len(rest) == 3 and rest[1] == "members" and method == "DELETE":
            group = st.find_group(rest[0])
            if rest[2] not in group["members"]:
                raise ApiError(404, "%s is not a member of group %s" % (rest[2], group["name"]))
            group["members"].remove(rest[2])
            return 204, None
        raise ApiError(404, "%s /v1/groups/%s is not supported" % (method, "/".join(rest)))

    def _control(self, path, body):
        emu = self.server.emulator
        if path == "/_emulator/requests" and self.command == "GET":
            return self._send(200, {"requests": emu.requests})
        if path == "/_emulator/requests" and self.command == "DELETE":
            emu.clear()
            return self._send(204)
        if path == "/_emulator/state" and self.command == "GET":
            # What valet-api holds: its hosts, where it placed whom, the reserved hosts.
            with emu.lock:
                st = emu.state
                return self._send(
                    200,
                    {
                        "hosts": st.hosts,
                        "reserved": st.reserved,
                        "placements": {
                            u: {"name": p["name"], "location": p["location"], "resource_id": p["resource_id"]}
                            for u, p in st.placements.items()
                        },
                    },
                )
        if path == "/_emulator/fault" and self.command == "POST":
            try:
                emu.set_fault((body or {}).get("mode", "none"), (body or {}).get("delay", 0))
            except ValueError as exc:
                return self._error(400, str(exc))
            return self._send(200, {"mode": emu.fault[0], "delay": emu.fault[1]})
        return self._error(404, "no emulator control %s %s" % (self.command, path))

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # Connections waiting to be accepted: a scheduler's worth of concurrent requests, not 5.
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A client that timed out (fault "slow") leaves a broken pipe behind: not news.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class ValetApiEmulator:
    """The emulator as an object: start() it, point clients at .url, read .requests."""

    def __init__(self, host="127.0.0.1", port=0, log_file=None, hosts=()):
        self.host, self.port = host, port
        self.log_file = log_file
        self.lock = threading.Lock()
        self.state = State(hosts)
        self.fault = ("none", 0)
        self._requests = []
        self._server = None
        self._thread = None

    @property
    def url(self):
        return "http://%s:%d/v1" % (self.host, self.port)

    @property
    def requests(self):
        with self.lock:
            return [dict(r) for r in self._requests]

    def record(self, method, path, token, body):
        with self.lock:
            self._requests.append({"method": method, "path": path, "token": token, "body": body})

    def clear(self):
        with self.lock:
            self._requests = []

    def set_fault(self, mode, delay=0):
        if mode not in FAULT_MODES:
            raise ValueError("fault mode must be one of %s" % ", ".join(FAULT_MODES))
        self.fault = (mode, float(delay or 0))

    def versions(self):
        return {"versions": [{"id": "v1.0", "status": "CURRENT", "links": [{"rel": "self", "href": self.url + "/"}]}]}

    def start(self):
        self._server = _Server((self.host, self.port), Handler)
        self._server.emulator = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="valet-api-emulator")
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description="valet-api emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--log", help="append an access log to this file")
    parser.add_argument("--hosts", default="", help="comma-separated compute host names: stacks are then planned whole")
    args = parser.parse_args(argv)
    log = open(args.log, "a") if args.log else None
    emu = ValetApiEmulator(args.host, args.port, log_file=log, hosts=[h for h in args.hosts.split(",") if h])
    emu.start()
    sys.stdout.write("valet-api emulator listening on %s\n" % emu.url)
    sys.stdout.flush()
    try:
        emu._thread.join()
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()


if __name__ == "__main__":
    main()
