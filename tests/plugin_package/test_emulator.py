"""The valet-api emulator speaks the REST contract the plugins rely on (stdlib client only)."""

import json
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from valet_api_emulator import ValetApiEmulator

TOKEN = (("X-Auth-Token", "any-token"),)  # a tuple: an immutable default for call()


def call(emulator, method, path, body=None, headers=TOKEN, base=None):
    url = (base or emulator.url) + path
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            raw = resp.read()
            return resp.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as err:
        raw = err.read().decode()
        try:
            return err.code, json.loads(raw)
        except ValueError:
            return err.code, raw


def root(emulator):
    return emulator.url[:-3]


def servers(*names):
    return {n: {"name": n, "type": "OS::Nova::Server", "properties": {}} for n in names}


def group(kind, members, name=None, level="host"):
    props = {"group_type": kind, "level": level, "resources": members}
    if name:
        props["group_name"] = name
    return {"name": "g", "type": "ATT::Valet::GroupAssignment", "properties": props}


def test_versions_without_auth_and_401_plain_text(emulator):
    status, body = call(emulator, "GET", "/", headers=None, base=root(emulator))
    assert status == 200 and body["versions"][0]["id"] == "v1.0"
    status, body = call(emulator, "GET", "/plans", headers=None)
    assert status == 401 and isinstance(body, str) and "Unauthorized" in body
    assert emulator.requests[-1] == {"method": "GET", "path": "/v1/plans", "token": False, "body": None}


def test_plan_lifecycle_and_error_shape(emulator):
    status, body = call(emulator, "POST", "/plans", {"plan_name": "s", "stack_id": "st", "resources": servers("a")})
    assert status == 201 and body["plan"]["stack_id"] == "st"
    plan_id = body["plan"]["id"]
    for ident in (plan_id, "st"):  # by plan id or by stack id
        assert call(emulator, "GET", "/plans/" + ident)[1]["plan"]["id"] == plan_id
    status, body = call(emulator, "PUT", "/plans/st", {"action": "update", "resources": servers("a", "b")})
    assert status == 200 and set(body["plan"]["resources"]) == {"a", "b"}
    status, body = call(emulator, "PUT", "/plans/st", {"action": "migrate", "resources": {}})
    assert status == 400
    assert set(body) == {"title", "explanation", "code", "error"}
    assert body["code"] == 400 and set(body["error"]) == {"message", "type"}
    assert call(emulator, "POST", "/plans", {"plan_name": "s", "stack_id": "st", "resources": {}})[0] == 409
    assert call(emulator, "DELETE", "/plans/st")[0] == 204
    assert call(emulator, "DELETE", "/plans/st")[0] == 404
    assert call(emulator, "GET", "/status")[1]["status"]["valet-api"] == "ok"
    assert call(emulator, "HEAD", "/status")[0] == 204


def place(emulator, uuid, hosts):
    status, body = call(emulator, "POST", "/placements/" + uuid, {"locations": hosts, "resource_id": "i-" + uuid})
    assert status == 201, body
    return body["placement"]["location"]


def test_affinity_diversity_exclusivity(emulator):
    hosts = ["r1-h1", "r1-h2", "r2-h1", "r2-h2"]
    res = servers("a1", "a2", "d1", "d2", "x1", "x2", "lone")
    res.update(
        {
            "ga": group("affinity", ["a1", "a2"]),
            "gd": group("diversity", ["d1", "d2"], level="rack"),
            "gx": group("exclusivity", ["x1", "x2"], name="gold"),
        }
    )
    assert call(emulator, "POST", "/plans", {"plan_name": "p", "resources": res})[0] == 201
    assert place(emulator, "a1", hosts) == place(emulator, "a2", hosts)
    d1, d2 = place(emulator, "d1", hosts), place(emulator, "d2", hosts)
    assert d1.split("-")[0] != d2.split("-")[0]  # different racks
    x1 = place(emulator, "x1", hosts)
    assert place(emulator, "x2", hosts) == x1  # the one host reserved for gold so far is reused
    assert place(emulator, "lone", hosts) != x1  # nobody else on a reserved host
    # The reserved host is not offered: the member goes to a fresh host, none left -> 409.
    status, body = call(emulator, "POST", "/placements/lone", {"locations": [x1]})
    assert status == 409 and "no host" in body["explanation"]


def test_diversity_beats_load_balancing(emulator):
    res = servers("d1", "d2", "busy1", "busy2")
    res["gd"] = group("diversity", ["d1", "d2"], level="rack")
    call(emulator, "POST", "/plans", {"plan_name": "p", "resources": res})
    place(emulator, "busy1", ["r2-h1"])
    place(emulator, "busy2", ["r2-h1"])
    assert place(emulator, "d1", ["r1-h1"]) == "r1-h1"
    # r1-h2 is the emptier host, but it is in d1's rack.
    assert place(emulator, "d2", ["r1-h2", "r2-h1"]) == "r2-h1"


def test_replan_when_planned_host_is_gone_and_ad_hoc_plan(emulator):
    call(emulator, "POST", "/plans", {"plan_name": "p", "resources": servers("s")})
    first = place(emulator, "s", ["h1", "h2"])
    other = "h2" if first == "h1" else "h1"
    assert place(emulator, "s", [other]) == other
    status, body = call(
        emulator, "POST", "/plans", {"plan_name": "i", "stack_id": "i", "locations": ["h9"], "resources": servers("i")}
    )
    assert status == 201 and body["plan"]["placements"]["i"]["location"] == "h9"


DATACENTER = ["r1-h1", "r1-h2", "r2-h1", "r2-h2"]


def nested_stack():
    """The demo's shape: host affinity inside rack affinity, host diversity, exclusivity."""
    res = servers("web1", "web2", "app1", "app2", "app3", "db1", "db2")
    res.update(
        {
            "web_pair": group("affinity", ["web1", "web2"]),
            "web_rack": group("affinity", ["web_pair", "app1"], level="rack"),
            "app_spread": group("diversity", ["app1", "app2", "app3"]),
            "db_hosts": group("exclusivity", ["db1", "db2"], name="gold"),
        }
    )
    return res


@pytest.fixture
def datacenter():
    emu = ValetApiEmulator(hosts=DATACENTER).start()
    yield emu
    emu.stop()


def test_known_hosts_plan_is_placed_whole_and_confirmed(datacenter):
    plan = {"plan_name": "p", "stack_id": "st", "resources": nested_stack()}
    status, body = call(datacenter, "POST", "/plans", plan)
    assert status == 201, body
    where = {v["name"]: v["location"] for v in body["plan"]["placements"].values()}
    assert sorted(where) == ["app1", "app2", "app3", "db1", "db2", "web1", "web2"]
    assert where["web1"] == where["web2"]
    assert where["app1"].split("-")[0] == where["web1"].split("-")[0]
    assert len({where["app1"], where["app2"], where["app3"]}) == 3
    db_hosts = {where["db1"], where["db2"]}
    assert not db_hosts & {h for n, h in where.items() if not n.startswith("db")}
    # Nova's requests, in any order, get the planned hosts.
    for name in ("db2", "app3", "web1", "app1", "web2", "db1", "app2"):
        assert place(datacenter, name, DATACENTER) == where[name]
    state = call(datacenter, "GET", "/_emulator/state", base=root(datacenter))[1]
    assert state["hosts"] == DATACENTER
    assert state["reserved"] == {h: "gold" for h in db_hosts}
    # Another stack's server never goes to the reserved host(s); deleting the plan frees them.
    call(datacenter, "POST", "/plans", {"plan_name": "q", "resources": servers("other")})
    assert place(datacenter, "other", DATACENTER) not in db_hosts
    assert call(datacenter, "DELETE", "/plans/st")[0] == 204
    assert call(datacenter, "GET", "/_emulator/state", base=root(datacenter))[1]["reserved"] == {}


def test_known_hosts_plan_without_placement_is_refused(datacenter):
    res = servers("a", "b", "c")
    res["spread"] = group("diversity", ["a", "b", "c"], level="rack")  # 3 racks needed, 2 exist
    plan = {"plan_name": "p", "stack_id": "st", "resources": res}
    status, body = call(datacenter, "POST", "/plans", plan)
    assert status == 409 and "satisfies its groups" in body["explanation"]
    assert call(datacenter, "GET", "/plans")[1] == {"plans": []}
    # A plan update that adds a server is placed against the kept ones.
    res.pop("c")
    res["spread"] = group("diversity", ["a", "b"], level="rack")
    assert call(datacenter, "POST", "/plans", {"plan_name": "p", "stack_id": "st", "resources": res})[0] == 201
    res.update(servers("c"))
    res["spread"] = group("diversity", ["a", "b", "c"], level="rack")
    assert call(datacenter, "PUT", "/plans/st", {"action": "update", "resources": res})[0] == 409
    assert "c" not in call(datacenter, "GET", "/plans/st")[1]["plan"]["resources"]


def test_groups_crud_and_members(emulator):
    status, body = call(emulator, "POST", "/groups", {"name": "gold", "type": "exclusivity"})
    assert status == 201
    gid = body["group"]["id"]
    assert call(emulator, "PUT", "/groups/%s/members" % gid, {"members": ["p1", "p2"]})[1]["group"]["members"] == [
        "p1",
        "p2",
    ]
    assert call(emulator, "DELETE", "/groups/" + gid)[0] == 409  # still has members
    assert call(emulator, "DELETE", "/groups/%s/members/p1" % gid)[0] == 204
    assert call(emulator, "GET", "/groups/" + gid)[1]["group"]["members"] == ["p2"]
    assert call(emulator, "DELETE", "/groups/%s/members" % gid)[0] == 204
    assert call(emulator, "DELETE", "/groups/" + gid)[0] == 204
    assert call(emulator, "GET", "/groups")[1] == {"groups": []}


def test_http_controls(emulator):
    base = root(emulator)
    assert call(emulator, "POST", "/_emulator/fault", {"mode": "error500"}, base=base)[0] == 200
    status, body = call(emulator, "GET", "/plans")
    assert status == 500 and body["code"] == 500
    assert call(emulator, "POST", "/_emulator/fault", {"mode": "bogus"}, base=base)[0] == 400
    call(emulator, "POST", "/_emulator/fault", {"mode": "none"}, base=base)
    recorded = call(emulator, "GET", "/_emulator/requests", base=base)[1]["requests"]
    assert [r["path"] for r in recorded] == ["/v1/plans"]
    assert call(emulator, "DELETE", "/_emulator/requests", base=base)[0] == 204
    assert emulator.requests == []
    emulator.set_fault("refuse")
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        call(emulator, "GET", "/plans")


def test_cli_runs_with_plain_python3(tmp_path):
    """As on a Debian test host: python3, stdlib only, a port and a log file."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "emu.log"
    proc = subprocess.Popen(
        ["python3", "-I", "tools/valet_api_emulator.py", "--host", "127.0.0.1", "--port", str(port), "--log", str(log)],
        cwd=__file__.rsplit("/tests/", 1)[0],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert "listening on http://127.0.0.1:%d/v1" % port in proc.stdout.readline()
        with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=5) as resp:
            assert resp.status == 200
        for _ in range(50):
            if log.exists() and "GET / " in log.read_text():
                break
            time.sleep(0.1)
        assert "GET / " in log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_plan_and_placement_keep_the_owners_project(emulator):
    body = {"plan_name": "s", "stack_id": "st", "resources": servers("a", "b"), "project_id": "p-owner"}
    status, reply = call(emulator, "POST", "/plans", body)
    assert status == 201 and reply["plan"]["project_id"] == "p-owner"
    status, reply = call(emulator, "POST", "/placements/a", {"locations": ["h1"], "resource_id": "i-a"})
    assert status == 201 and reply["placement"]["project_id"] == "p-owner"  # the plan's, when not said
    status, reply = call(
        emulator, "POST", "/placements/b", {"locations": ["h2"], "resource_id": "i-b", "project_id": "p-owner"}
    )
    assert status == 201 and reply["placement"]["project_id"] == "p-owner"
    assert emulator.requests[-1]["body"]["project_id"] == "p-owner"
