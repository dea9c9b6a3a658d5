"""valet-api's REST API in-process (noauth2, SQLite): plans, placements, groups, errors.

Assertions never depend on which valid host the engine picks: they check the rules instead.
"""

import json
import socket

import pytest
from valet_api_fakes import GROUP
from valet_api_fakes import Served
from valet_api_fakes import rule_violations
from valet_api_fakes import state
from valet_api_fakes import violations

SERVER = "OS::Nova::Server"


def server(name, flavor="m1.small"):
    return {"name": name, "type": SERVER, "properties": {"flavor": flavor}}


def group(name, kind, members, level="host", group_name=None):
    props = {"group_type": kind, "level": level, "resources": members}
    if group_name:
        props["group_name"] = group_name
    return {"name": name, "type": GROUP, "properties": props}


def plan_body(stack, resources, **extra):
    return dict({"plan_name": stack, "stack_id": stack, "timeout": "60 sec", "resources": resources}, **extra)


def nested():
    """s1+s2 together (pair), the pair apart from s3, at rack level; s4 exclusive."""
    return {
        "s1": server("s1"),
        "s2": server("s2"),
        "s3": server("s3"),
        "s4": server("s4"),
        "pair": group("pair", "affinity", ["s1", "s2"]),
        "apart": group("apart", "diversity", ["pair", "s3"], level="rack"),
        "ex": group("ex", "exclusivity", ["s4"], group_name="gold"),
    }


def rack(host):
    return host.split("-")[0]


def where(plan):
    return {u: p["location"] for u, p in plan["placements"].items()}


def db_url(conf):
    return conf.database.connection


def test_root_needs_no_token_and_v1_does(api):
    code, body = api("GET", "/", headers={"X-Auth-Token": ""})
    assert code == 200 and body["versions"][0]["id"] == "v1.0"
    import webob

    resp = webob.Request.blank("/v1/plans").get_response(api.app)
    assert resp.status_code == 401 and resp.json["code"] == 401
    assert resp.headers["x-openstack-request-id"].startswith("req-")


def test_status_reports_database_and_cloud(api, cloud):
    code, body = api("GET", "/v1/status")
    assert code == 200
    assert body["status"] == {
        "valet-api": "ok",
        "plans": 0,
        "database": "ok",
        "cloud": {"placement": "ok", "nova": "ok"},
    }
    cloud.down = True
    code, body = api("GET", "/v1/status")
    assert body["status"]["valet-api"] == "degraded" and body["status"]["cloud"]["placement"].startswith("error")


def test_plan_lifecycle(api, conf, cloud):
    code, body = api("POST", "/v1/plans", plan_body("stk", nested(), project_id="owner"))
    assert code == 201, body
    plan = body["plan"]
    assert plan["stack_id"] == "stk" and plan["project_id"] == "owner"
    assert set(plan["placements"]) == {"s1", "s2", "s3", "s4"}
    assert plan["placements"]["s1"]["name"] == "s1"
    assert rule_violations(plan["resources"], where(plan), rack) == []
    # By plan id and by stack id, and in the list.
    assert api("GET", "/v1/plans/" + plan["id"])[1]["plan"] == plan
    assert api("GET", "/v1/plans/stk")[1]["plan"] == plan
    assert [p["id"] for p in api("GET", "/v1/plans")[1]["plans"]] == [plan["id"]]
    # The same stack again: 409, as the Nova filter's rescheduling relies on.
    code, body = api("POST", "/v1/plans", plan_body("stk", nested()))
    assert code == 409 and "already exists" in body["explanation"]

    # Update: s3 goes, s5 comes into the pair.
    resources = nested()
    del resources["s3"]
    resources["apart"]["properties"]["resources"] = ["pair"]
    resources["s5"] = server("s5")
    resources["pair"]["properties"]["resources"] = ["s1", "s2", "s5"]
    code, body = api("PUT", "/v1/plans/stk", {"action": "update", "resources": resources})
    assert code == 200, body
    updated = body["plan"]
    assert set(updated["placements"]) == {"s1", "s2", "s4", "s5"}
    assert {u: updated["placements"][u] for u in ("s1", "s2", "s4")} == {
        u: plan["placements"][u] for u in ("s1", "s2", "s4")
    }
    assert updated["placements"]["s5"]["location"] == updated["placements"]["s1"]["location"]
    assert violations(cloud, *state(db_url(conf))) == []

    code, body = api("PUT", "/v1/plans/stk", {"action": "rollback", "resources": resources})
    assert code == 400 and "update" in body["explanation"]

    assert api("DELETE", "/v1/plans/stk")[0] == 204
    assert api("GET", "/v1/plans/stk")[0] == 404
    placements, hosts = state(db_url(conf))
    assert placements == [] and all(h["exclusive"] is None for h in hosts.values())
    assert api("DELETE", "/v1/plans/stk")[0] == 404


def test_confirm_and_replan(api, conf, cloud):
    resources = {"a": server("a"), "b": server("b"), "g": group("g", "diversity", ["a", "b"])}
    plan = api("POST", "/v1/plans", plan_body("stk", resources))[1]["plan"]
    planned = where(plan)
    others = [h.name for h in cloud.hosts() if h.name not in planned.values()]

    # The planned host among Nova's: confirmed, nothing moves.
    code, body = api("POST", "/v1/placements/a", {"locations": others + [planned["a"]], "resource_id": "inst-a"})
    assert code == 201
    assert body["placement"]["location"] == planned["a"] and body["placement"]["resource_id"] == "inst-a"
    assert set(body["placement"]) == {"id", "orchestration_id", "resource_id", "plan_id", "name", "location"}
    assert body["placement"]["plan_id"] == plan["id"] and body["placement"]["orchestration_id"] == "a"

    # Not among them: replanned among them, still apart from a.
    nova = [planned["a"]] + others[:2]
    code, body = api("POST", "/v1/placements/b", {"locations": nova, "resource_id": "inst-b"})
    assert code == 201, body
    assert body["placement"]["location"] in others[:2]
    # Only a's host is left: diversity cannot hold, refused with the group named.
    code, body = api("POST", "/v1/placements/b", {"locations": [planned["a"]]})
    assert code == 409 and "g" in body["explanation"] and "diversity" in body["explanation"]
    assert api("GET", "/v1/placements/b")[1]["placement"]["location"] in others[:2]

    assert api("POST", "/v1/placements/nope", {"locations": others})[0] == 404
    assert api("GET", "/v1/placements")[0] == 200
    pid = api("GET", "/v1/placements/a")[1]["placement"]["id"]
    assert api("GET", "/v1/placements/" + pid)[1]["placement"]["orchestration_id"] == "a"
    assert api("DELETE", "/v1/placements/" + pid)[0] == 204
    assert set(where(api("GET", "/v1/plans/stk")[1]["plan"])) == {"b"}


def test_adhoc_plan_with_locations(api, cloud):
    """The Nova filter's plan for a server without a Heat hint: placed among Nova's hosts."""
    body = plan_body("inst", {"inst": server("inst")}, locations=["r2-h3"])
    code, answer = api("POST", "/v1/plans", body)
    assert code == 201 and answer["plan"]["placements"]["inst"]["location"] == "r2-h3"


def test_unplaceable_plan_is_refused_before_anything_is_stored(api, conf):
    # Affinity of 3 large servers: one host has room for 2.
    resources = {n: server(n, "m1.large") for n in ("a", "b", "c")}
    resources["together"] = group("together", "affinity", ["a", "b", "c"])
    code, body = api("POST", "/v1/plans", plan_body("stk", resources))
    assert code == 409
    assert "together" in body["explanation"] and "affinity" in body["explanation"]
    assert body["title"] == "Conflict" and body["error"] == {"message": body["explanation"], "type": "Conflict"}
    assert api("GET", "/v1/plans")[1] == {"plans": []}
    assert state(db_url(conf))[0] == []


def test_same_exclusivity_name_in_two_projects_never_shares_hosts(api, conf, cloud):
    for project in ("p1", "p2"):
        resources = {"%s-%d" % (project, i): server("x%d" % i) for i in range(2)}
        resources["ex"] = group("ex", "exclusivity", sorted(resources), group_name="gold")
        code, body = api("POST", "/v1/plans", plan_body("stk-" + project, resources), project=project)
        assert code == 201, body
    placements, hosts = state(db_url(conf))
    assert {p["exclusive"] for p in placements} == {"p1:gold", "p2:gold"}
    assert violations(cloud, placements, hosts) == []
    # A non-member server never lands on their hosts.
    taken = {p["host"] for p in placements}
    code, body = api("POST", "/v1/plans", plan_body("other", {"o": server("o")}))
    assert body["plan"]["placements"]["o"]["location"] not in taken


def test_registered_exclusivity_group_is_shared_by_its_member_projects_only(api, conf, cloud):
    code, body = api("POST", "/v1/groups", {"name": "gold", "description": "shared"})
    assert code == 201 and body["group"]["type"] == "exclusivity" and body["group"]["members"] == []
    gid = body["group"]["id"]
    assert api("POST", "/v1/groups/%s/members" % gid, {"members": ["p1", "p2"]})[0] == 201
    for project in ("p1", "p2"):
        resources = {
            "%s-a" % project: server("a"),
            "ex": group("ex", "exclusivity", ["%s-a" % project], group_name="gold"),
        }
        assert api("POST", "/v1/plans", plan_body("stk-" + project, resources), project=project)[0] == 201
    assert {p["exclusive"] for p in state(db_url(conf))[0]} == {"group:gold"}
    # Project p3 is not a member: refused, naming the group and the project.
    resources = {"p3-a": server("a"), "ex": group("ex", "exclusivity", ["p3-a"], group_name="gold")}
    code, body = api("POST", "/v1/plans", plan_body("stk-p3", resources, project_id="p3"))
    assert code == 409 and "gold" in body["explanation"] and "p3" in body["explanation"]
    assert api("GET", "/v1/plans/stk-p3")[0] == 404
    assert violations(cloud, *state(db_url(conf))) == []


def test_groups_and_members(api):
    assert api("POST", "/v1/groups", {"name": "g1", "type": "affinity"})[0] == 201
    assert api("POST", "/v1/groups", {"name": "g1"})[0] == 409
    assert api("POST", "/v1/groups", {"name": "g2", "type": "together"})[0] == 400
    assert api("PUT", "/v1/groups/g1", {"description": "d"})[1]["group"]["description"] == "d"
    assert api("PUT", "/v1/groups/g1/members", {"members": ["p1"]})[0] == 200
    assert api("GET", "/v1/groups/g1/members")[1] == {"members": ["p1"]}
    assert api("DELETE", "/v1/groups/g1")[0] == 409
    assert api("DELETE", "/v1/groups/g1/members/p2")[0] == 404
    assert api("DELETE", "/v1/groups/g1/members/p1")[0] == 204
    assert [g["name"] for g in api("GET", "/v1/groups")[1]["groups"]] == ["g1"]
    assert api("DELETE", "/v1/groups/g1")[0] == 204
    assert api("GET", "/v1/groups/g1")[0] == 404


def _bad_plans():
    ok = {"a": server("a")}
    return [
        ("malformed JSON", b'{"plan_name": "x", ', 400, "not JSON"),
        ("not an object", b"[1, 2]", 400, "JSON object"),
        ("no plan_name", json.dumps({"resources": ok}).encode(), 400, "plan_name"),
        ("plan_name not a string", json.dumps(plan_body("x", ok, plan_name=5)).encode(), 400, "plan_name"),
        ("resources a list", json.dumps(plan_body("x", ["a"])).encode(), 400, "resources"),
        ("resource without type", json.dumps(plan_body("x", {"a": {"name": "a"}})).encode(), 400, "type"),
        (
            "server without flavor",
            json.dumps(plan_body("x", {"a": {"name": "a", "type": SERVER}})).encode(),
            400,
            "flavor",
        ),
        ("unknown flavor", json.dumps(plan_body("x", {"a": server("a", "m9.huge")})).encode(), 400, "m9.huge"),
        (
            "unknown group type",
            json.dumps(plan_body("x", dict(ok, g=group("g", "together", ["a"])))).encode(),
            400,
            "group_type",
        ),
        (
            "unknown level",
            json.dumps(plan_body("x", dict(ok, g=group("g", "affinity", ["a"], "dc")))).encode(),
            400,
            "level",
        ),
        (
            "exclusivity without name",
            json.dumps(plan_body("x", dict(ok, g=group("g", "exclusivity", ["a"])))).encode(),
            400,
            "group_name",
        ),
        (
            "members not a list",
            json.dumps(plan_body("x", dict(ok, g=group("g", "affinity", "a")))).encode(),
            400,
            "list",
        ),
        (
            "group in itself",
            json.dumps(plan_body("x", dict(ok, g=group("g", "affinity", ["a", "g"])))).encode(),
            400,
            "itself",
        ),
        ("locations not a list", json.dumps(plan_body("x", ok, locations="h1")).encode(), 400, "locations"),
        ("project_id not a string", json.dumps(plan_body("x", ok, project_id=7)).encode(), 400, "project_id"),
    ]


@pytest.mark.parametrize("raw,code,words", [b[1:] for b in _bad_plans()], ids=[b[0] for b in _bad_plans()])
def test_bad_plan_is_refused_and_nothing_is_stored(api, conf, raw, code, words):
    got, body = api("POST", "/v1/plans", raw=raw, headers={"Content-Type": "application/json"})
    assert got == code, body
    assert words in body["explanation"]
    assert set(body) == {"title", "explanation", "code", "error"} and body["code"] == code
    assert api("GET", "/v1/plans")[1] == {"plans": []} and state(db_url(conf))[0] == []
    assert api("POST", "/v1/plans", plan_body("after", {"a": server("a")}))[0] == 201


def test_a_member_that_is_not_in_the_plan_is_kept_and_never_placed(api):
    """Heat's plugin plans servers and group assignments only: a member that is no server (an
    OS::Heat::None, a nested stack) arrives as a bare uuid."""
    got, body = api(
        "POST", "/v1/plans", plan_body("x", {"a": server("a"), "g": group("g", "affinity", ["a", "ghost"])})
    )
    assert got == 201, body
    assert sorted(body["plan"]["placements"]) == ["a"]
    assert body["plan"]["resources"]["g"]["properties"]["resources"] == ["a", "ghost"]


@pytest.mark.parametrize(
    "path,body,words",
    [
        ("/v1/placements/a", {"locations": []}, "locations"),
        ("/v1/placements/a", {"locations": [1]}, "locations"),
        ("/v1/placements/a", {"locations": ["r1-h1"], "resource_id": 5}, "resource_id"),
        ("/v1/groups", {"name": ""}, "name"),
        ("/v1/groups/g/members", {"members": "p1"}, "members"),
    ],
)
def test_bad_requests_elsewhere(api, path, body, words):
    api("POST", "/v1/plans", plan_body("stk", {"a": server("a")}))
    api("POST", "/v1/groups", {"name": "g"})
    code, answer = api("POST", path, body)
    assert code == 400 and words in answer["explanation"]


def test_unknown_paths_and_methods(api):
    code, body = api("GET", "/v2/plans")
    assert code == 404 and body["code"] == 404
    code, body = api("PATCH", "/v1/plans/x")
    assert code == 405 and "PATCH" in body["explanation"]


def test_huge_body_is_refused_without_being_read(conf, cloud):
    """10 MB announced, a few bytes sent: the 413 comes back at once and the service keeps serving."""
    from valet_api import wsgi

    served = Served(wsgi.init_application(conf, cloud=cloud))
    try:
        with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
            sock.sendall(
                b"POST /v1/plans HTTP/1.1\r\nHost: x\r\nX-Auth-Token: u:p\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n{\"plan_name\": " % (10 * 1024 * 1024)
            )
            reply = b""
            while True:  # the server answers and closes, without waiting for the 10 MB
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
            reply = reply.decode()
        head, _sep, payload = reply.partition("\r\n\r\n")
        assert head.split()[1] == "413"
        assert json.loads(payload)["code"] == 413
        import urllib.request

        req = urllib.request.Request(served.url + "/plans", headers={"X-Auth-Token": "u:p"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert json.load(resp) == {"plans": []}
    finally:
        served.stop()


def test_chunked_body_over_the_limit_is_refused(conf, cloud):
    from valet_api_fakes import make_conf

    from valet_api import wsgi

    small = make_conf(conf.database.connection, max_request_body_size=100)
    app = wsgi.init_application(small, cloud=cloud)
    import webob

    req = webob.Request.blank("/v1/plans", method="POST", headers={"X-Auth-Token": "u:p"})
    req.body = json.dumps(plan_body("x", {"a": server("a" * 200)})).encode()
    resp = req.get_response(app)
    assert resp.status_code == 413 and resp.json["code"] == 413


@pytest.mark.parametrize("roles,code", [("member", 403), ("reader,member", 403), ("service", 200), ("admin", 200)])
def test_policy_default_is_the_service_or_admin_role(api, roles, code):
    got, body = api("GET", "/v1/plans", headers={"X-Roles": roles})
    assert got == code
    if code == 403:
        assert "valet:plans:list" in body["explanation"] and body["code"] == 403


def test_an_unexpected_error_is_a_json_500_and_the_service_keeps_serving(api, cloud):
    def broken(flavor):
        raise RuntimeError("a bug")

    cloud.flavor_size = broken
    import webob

    req = webob.Request.blank("/v1/plans", method="POST", headers={"X-Auth-Token": "u:p"})
    req.body = json.dumps(plan_body("stk", {"a": server("a")})).encode()
    resp = req.get_response(api.app)
    assert resp.status_code == 500
    assert resp.json["code"] == 500 and "a bug" not in resp.text  # no internals shown
    assert resp.headers["x-openstack-request-id"].startswith("req-")
    assert api("GET", "/v1/plans")[1] == {"plans": []}


def test_cloud_down_refuses_plans_with_503(api, cloud):
    cloud.down = True
    code, body = api("POST", "/v1/plans", plan_body("stk", {"a": server("a")}))
    assert code == 503 and "hosts" in body["explanation"]
    cloud.down = False
    assert api("POST", "/v1/plans", plan_body("stk", {"a": server("a")}))[0] == 201


def test_sqlite_serves_concurrent_decisions_of_one_process(conf, cloud):
    """20 exclusive stacks at once on the embedded SQLite: each host goes to one, the rest are 409s.

    Without BEGIN IMMEDIATE, SQLite refuses a read-then-write transaction outright ("database is
    locked", a 500) whenever another holds the write lock.
    """
    import threading
    import urllib.error
    import urllib.request

    from valet_api import wsgi

    served = Served(wsgi.init_application(conf, cloud=cloud))
    answers = [None] * 20
    start = threading.Barrier(20)

    def plan(i):
        resources = {
            "x%d" % i: server("x", "m1.medium"),
            "g%d" % i: group("g", "exclusivity", ["x%d" % i], "host", "gold"),
        }
        req = urllib.request.Request(
            served.url + "/plans",
            data=json.dumps(plan_body("s%d" % i, resources)).encode(),
            headers={"X-Auth-Token": "u:p%d" % i, "Content-Type": "application/json"},
            method="POST",
        )
        start.wait()
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                answers[i] = (resp.status, None)
        except urllib.error.HTTPError as exc:
            answers[i] = (exc.code, json.load(exc)["explanation"])

    threads = [threading.Thread(target=plan, args=(i,)) for i in range(20)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
    finally:
        served.stop()
    codes = sorted(code for code, _why in answers)
    assert codes == [201] * len(cloud.hosts()) + [409] * (20 - len(cloud.hosts())), answers
    assert all("gold" in why for code, why in answers if code == 409)
    assert violations(cloud, *state(db_url(conf))) == []


def test_a_host_is_released_when_its_rack_holds_no_server_of_its_key(api, conf):
    """Exclusive servers in two racks: the one that goes frees its host, the other keeps its own."""
    resources = {"a": server("a"), "b": server("b"), "ex": group("ex", "exclusivity", ["a", "b"], group_name="gold")}
    resources["apart"] = group("apart", "diversity", ["a", "b"], level="rack")
    where_ = where(api("POST", "/v1/plans", plan_body("stk", resources))[1]["plan"])
    hosts = state(db_url(conf))[1]
    assert hosts[where_["a"]]["exclusive"] == hosts[where_["b"]]["exclusive"] == "p1:gold"
    pid = api("GET", "/v1/placements/a")[1]["placement"]["id"]
    assert api("DELETE", "/v1/placements/" + pid)[0] == 204
    hosts = state(db_url(conf))[1]
    assert hosts[where_["a"]]["exclusive"] is None and hosts[where_["b"]]["exclusive"] == "p1:gold"
    # Replanned within its rack's other hosts, b takes its new host and frees the old one.
    rack_mates = [h for h in hosts if rack(h) == rack(where_["b"]) and h != where_["b"]]
    code, body = api("POST", "/v1/placements/b", {"locations": rack_mates})
    assert code == 201
    hosts = state(db_url(conf))[1]
    assert hosts[body["placement"]["location"]]["exclusive"] == "p1:gold"
    assert hosts[where_["b"]]["exclusive"] == "p1:gold"  # its rack still holds b: kept
    # b moves to the other rack: its old rack holds no server of the key any more.
    code, body = api("POST", "/v1/placements/b", {"locations": [h for h in hosts if rack(h) != rack(where_["b"])]})
    assert code == 201
    hosts = state(db_url(conf))[1]
    assert [h for h, row in hosts.items() if row["exclusive"]] == [body["placement"]["location"]]


def test_replan_keeps_the_plans_owner_for_its_exclusivity_key(api, conf, cloud):
    """Heat names the owner in the plan; Nova's placement request may not: the key stays the owner's."""
    resources = {"a": server("a"), "b": server("b"), "ex": group("ex", "exclusivity", ["a", "b"], group_name="gold")}
    plan = api("POST", "/v1/plans", plan_body("stk", resources, project_id="owner"))[1]["plan"]
    taken = set(where(plan).values())
    free = [h.name for h in cloud.hosts() if h.name not in taken]
    code, body = api("POST", "/v1/placements/a", {"locations": free, "resource_id": "i-a"}, project="service")
    assert code == 201, body
    placements, hosts = state(db_url(conf))
    assert {p["exclusive"] for p in placements} == {"owner:gold"}
    assert hosts[body["placement"]["location"]]["exclusive"] == "owner:gold"
    assert violations(cloud, placements, hosts) == []


def test_an_update_that_swaps_an_exclusive_server_keeps_its_host_reserved(api, conf, cloud):
    """The old server of the key goes, a new one of the same key takes its host: still reserved."""
    one = {"a": server("a"), "ex": group("ex", "exclusivity", ["a"], group_name="gold")}
    plan = api("POST", "/v1/plans", plan_body("stk", one))[1]["plan"]
    # Only a's host is free for the newcomer: every other host is taken by other stacks.
    busy = [h.name for h in cloud.hosts() if h.name != plan["placements"]["a"]["location"]]
    for i, host in enumerate(busy):
        assert api("POST", "/v1/plans", plan_body("o%d" % i, {"o%d" % i: server("o")}, locations=[host]))[0] == 201
    swapped = {"b": server("b"), "ex": group("ex", "exclusivity", ["b"], group_name="gold")}
    code, body = api("PUT", "/v1/plans/stk", {"action": "update", "resources": swapped})
    assert code == 200, body
    host = body["plan"]["placements"]["b"]["location"]
    assert state(db_url(conf))[1][host]["exclusive"] == "p1:gold"
    assert violations(cloud, *state(db_url(conf))) == []


def test_the_engine_is_asked_only_about_servers_it_is_given(api, monkeypatch, cloud):
    """A server whose placement was deleted stays in the plan: a replan of its group-mate leaves it out."""
    from valet_api import engine

    place = engine.place

    def strict(hosts, servers, groups, fixed=None):
        known = {s.id for s in servers} | {g.id for g in groups}
        for g in groups:
            assert set(g.members) <= known, "group %s names %s, not given" % (g.name, set(g.members) - known)
        return place(hosts, servers, groups, fixed=fixed)

    monkeypatch.setattr(engine, "place", strict)
    resources = {"a": server("a"), "b": server("b"), "g": group("g", "diversity", ["a", "b"])}
    plan = api("POST", "/v1/plans", plan_body("stk", resources))[1]["plan"]
    pid = api("GET", "/v1/placements/a")[1]["placement"]["id"]
    assert api("DELETE", "/v1/placements/" + pid)[0] == 204
    others = [h.name for h in cloud.hosts() if h.name != plan["placements"]["b"]["location"]]
    assert api("POST", "/v1/placements/b", {"locations": others})[0] == 201


def test_policy_yaml_beside_valet_conf_is_read_on_every_oslo_policy(tmp_path, cloud):
    """/etc/valet/policy.yaml is the file operators write, also where oslo.policy still defaults to
    policy.json (Debian 12's 4.0.0, whose default this test puts back), and a change applies to the
    next request without a restart."""
    import webob
    from oslo_config import cfg
    from oslo_policy import opts as policy_opts
    from valet_api_fakes import sync

    from valet_api import conf as valet_conf
    from valet_api import wsgi

    conf = cfg.ConfigOpts()
    policy_opts.set_defaults(conf, policy_file="policy.json")  # as oslo.policy 4.0.0 registers it
    valet_conf.register_opts(conf)
    conf_file = tmp_path / "valet.conf"
    conf_file.write_text(
        "[api]\nauth_strategy = noauth2\n[database]\nconnection = sqlite:///%s\n" % (tmp_path / "v.sqlite")
    )
    conf(["--config-file", str(conf_file)], project="valet", default_config_files=[])
    sync(conf)
    app = wsgi.init_application(conf, cloud=cloud)

    def list_plans(roles):
        req = webob.Request.blank("/v1/plans", headers={"X-Auth-Token": "u1:p1", "X-Roles": roles})
        return req.get_response(app)

    assert list_plans("service").status_code == 200
    (tmp_path / "policy.yaml").write_text('"valet:plans:list": "role:admin"\n')
    refused = list_plans("service")
    assert refused.status_code == 403 and "valet:plans:list" in refused.json["explanation"]
    assert list_plans("admin").status_code == 200
