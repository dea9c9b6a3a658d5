"""valet-api behind keystonemiddleware's auth_token with the real Keystone fixture, driven by
valet_os's own ValetClient (the bytes the plugins send), answer for answer against the emulator."""

import json
import urllib.error
import urllib.request
import uuid

import pytest
from oslo_config import cfg
from valet_api_emulator import ValetApiEmulator
from valet_api_fakes import GROUP
from valet_api_fakes import FakeCloud
from valet_api_fakes import Served
from valet_api_fakes import make_conf
from valet_api_fakes import rule_violations
from valet_api_fakes import sync

from valet_api import wsgi

# Users of their own: the session's Keystone is shared with other files, whose "valet" has another password.
VALET_USER = "valet-api-svc"
VALET_PASSWORD = "valet-api-test-pw"
MEMBER_PASSWORD = "member-test-pw"


@pytest.fixture(scope="module")
def keystone_users(keystone, kc):
    keystone.create_service_user(VALET_USER, VALET_PASSWORD, project="service", role="admin")
    keystone.create_service_user("plain", MEMBER_PASSWORD, project="service", role="member")
    return kc.projects.list(name="service")[0].id


@pytest.fixture(scope="module")
def cloud():
    return FakeCloud.grid(racks=2, per_rack=3)


@pytest.fixture(scope="module")
def served(keystone, keystone_users, cloud, tmp_path_factory):
    conf = make_conf("sqlite:///%s" % (tmp_path_factory.mktemp("valet") / "valet.sqlite"), "keystone", keystone)
    sync(conf)
    server = Served(wsgi.init_application(conf, cloud=cloud))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def emulator(cloud):
    emu = ValetApiEmulator(hosts=[h.name for h in cloud.hosts()]).start()
    yield emu
    emu.stop()


def client(keystone, url, user=VALET_USER, password=VALET_PASSWORD):
    from valet_os.common import client as valet_client
    from valet_os.common import config

    conf = config.register_opts(cfg.ConfigOpts())
    conf([], default_config_files=[])
    for name, value in dict(
        url=url,
        username=user,
        password=password,
        project_name="service",
        auth_url=keystone.auth_url,
        read_timeout=30,
        total_timeout=60,
    ).items():
        conf.set_override(name, value, "valet")
    return valet_client.ValetClient(conf)


def test_no_token_is_401_and_root_needs_none(served):
    with urllib.request.urlopen(served.url[: -len("/v1")] + "/", timeout=10) as resp:
        assert json.load(resp)["versions"][0]["status"] == "CURRENT"
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(served.url + "/plans", timeout=10)
    assert exc.value.code == 401
    body = json.load(exc.value)
    assert body["code"] == 401 and body["title"] == "Unauthorized" and body["explanation"]
    assert exc.value.headers["WWW-Authenticate"].startswith("Keystone uri=")
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(
            urllib.request.Request(served.url + "/plans", headers={"X-Auth-Token": "forged"}), timeout=10
        )
    assert exc.value.code == 401


def test_a_role_the_policy_does_not_name_is_403(keystone, served):
    from valet_os.common import client as valet_client

    plain = client(keystone, served.url, "plain", MEMBER_PASSWORD)
    with pytest.raises(valet_client.ValetAPIError) as exc:
        plain.request("GET", "/plans")
    assert exc.value.status == 403 and "valet:plans:list" in exc.value.explanation
    assert client(keystone, served.url).request("GET", "/plans")[0] == 200


def test_wrong_project_for_a_registered_exclusivity_group_is_refused(keystone, keystone_users, served):
    from valet_os.common import client as valet_client

    api = client(keystone, served.url)
    api.request("POST", "/groups", {"name": "platinum"})
    api.request("POST", "/groups/platinum/members", {"members": ["some-other-project"]})
    s, g = str(uuid.uuid4()), str(uuid.uuid4())
    body = {
        "plan_name": "x",
        "stack_id": str(uuid.uuid4()),
        "timeout": "60 sec",
        "resources": {
            s: {"name": "s", "type": "OS::Nova::Server", "properties": {"flavor": "m1.small"}},
            g: {
                "name": "g",
                "type": GROUP,
                "properties": {
                    "group_type": "exclusivity",
                    "group_name": "platinum",
                    "level": "host",
                    "resources": [s],
                },
            },
        },
    }
    # No project_id in the body: the token's project (the Valet user's, "service") is the owner.
    with pytest.raises(valet_client.ValetAPIError) as exc:
        api.create_plan(body)
    assert exc.value.status == 409
    assert "platinum" in exc.value.explanation and keystone_users in exc.value.explanation
    api.request("POST", "/groups/platinum/members", {"members": [keystone_users]})
    assert api.create_plan(body)["placements"][s]["location"]


def _nested(names):
    s1, s2, s3, pair, apart = names
    server = {"type": "OS::Nova::Server", "properties": {"flavor": "m1.small", "image": "cirros"}}
    return {
        s1: dict(server, name="s1"),
        s2: dict(server, name="s2"),
        s3: dict(server, name="s3"),
        pair: {
            "name": "pair",
            "type": GROUP,
            "properties": {"group_type": "affinity", "level": "host", "resources": [s1, s2]},
        },
        apart: {
            "name": "apart",
            "type": GROUP,
            "properties": {"group_type": "diversity", "level": "rack", "resources": [pair, s3]},
        },
    }


def _conversation(api, cloud):
    """Every call the plugins make, in the order a stack's life makes them; returns what each answered."""
    from valet_os.common import client as valet_client

    names = [str(uuid.uuid4()) for _n in range(5)]
    s1, s2, s3 = names[:3]
    stack = str(uuid.uuid4())
    resources = _nested(names)
    out = {}
    plan = api.create_plan({"plan_name": "st", "stack_id": stack, "timeout": "60 sec", "resources": resources})
    out["create"] = plan
    where = {u: p["location"] for u, p in plan["placements"].items()}
    out["create_rules"] = rule_violations(resources, where, lambda h: h.split("-")[0])
    hosts = [h.name for h in cloud.hosts()]
    # Nova confirms s1 on its planned host, among all the others.
    out["confirm"] = api.place(s1, hosts, "inst-1")
    out["confirm_same_host"] = out["confirm"]["location"] == where[s1]
    # Nova's candidates exclude s3's planned host: replanned among them, still apart from the pair's rack.
    others = [h for h in hosts if h != where[s3]]
    out["replan"] = api.place(s3, others, "inst-3")
    out["replan_ok"] = out["replan"]["location"] in others and out["replan"]["location"][:2] != where[s1][:2]
    # Heat updates the stack: one more server in the pair.
    s4 = str(uuid.uuid4())
    resources[s4] = dict(resources[s1], name="s4")
    resources[names[3]]["properties"]["resources"].append(s4)
    updated = api.update_plan(stack, resources)
    out["update"] = updated
    out["update_with_pair"] = updated["placements"][s4]["location"] == updated["placements"][s1]["location"]
    # Refusals: a group type nobody knows, and a plan that cannot fit.
    bad = dict(resources)
    bad[names[3]] = {
        "name": "pair",
        "type": GROUP,
        "properties": {"group_type": "together", "level": "host", "resources": [s1]},
    }
    for key, body in (
        ("bad_type", {"plan_name": "b", "stack_id": str(uuid.uuid4()), "timeout": "60 sec", "resources": bad}),
        (
            "unplaceable",
            {"plan_name": "u", "stack_id": str(uuid.uuid4()), "timeout": "60 sec", "resources": _too_diverse()},
        ),
    ):
        try:
            api.create_plan(body)
            out[key] = None
        except valet_client.ValetAPIError as exc:
            out[key] = (exc.status, bool(exc.explanation))
    try:
        api.place(str(uuid.uuid4()), hosts, "x")
    except valet_client.ValetAPIError as exc:
        out["unknown_resource"] = exc.status
    # A group naming a member that is not in the plan: what Heat's plugin sends for a member that is
    # no server (OS::Heat::None, a nested stack whose servers its own plan places). Kept, not placed.
    lone, group, foreign, other = (str(uuid.uuid4()) for _n in range(4))
    body = {
        "plan_name": "f",
        "stack_id": other,
        "timeout": "60 sec",
        "resources": {
            lone: {"name": "f1", "type": "OS::Nova::Server", "properties": {"flavor": "m1.small"}},
            group: {
                "name": "with_foreign",
                "type": GROUP,
                "properties": {"group_type": "affinity", "level": "host", "resources": [lone, foreign]},
            },
        },
    }
    made = api.create_plan(body)
    out["foreign_member"] = (
        sorted(made["placements"]) == [lone],
        made["resources"][group]["properties"]["resources"] == [lone, foreign],
    )
    api.delete_plan(other)
    out["delete"] = api.delete_plan(stack)
    out["delete_again"] = api.delete_plan(stack)
    return out


def _too_diverse():
    ids = [str(uuid.uuid4()) for _n in range(8)]
    res = {
        u: {"name": "d%d" % i, "type": "OS::Nova::Server", "properties": {"flavor": "m1.small"}}
        for i, u in enumerate(ids)
    }
    res[str(uuid.uuid4())] = {
        "name": "spread",
        "type": GROUP,
        "properties": {"group_type": "diversity", "level": "host", "resources": ids},
    }
    return res


def _shape(value):
    """Keys and types, recursively, with the uuids and host names left out."""
    if isinstance(value, dict):
        return {k if len(k) != 36 else "<uuid>": _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return type(value).__name__


def test_valet_client_gets_the_emulators_answers(keystone, served, emulator, cloud):
    real = _conversation(client(keystone, served.url), cloud)
    emulated = _conversation(client(keystone, emulator.url), cloud)
    assert real["create_rules"] == [] and real["confirm_same_host"] and real["replan_ok"] and real["update_with_pair"]
    assert (real["bad_type"], real["unplaceable"], real["unknown_resource"]) == ((400, True), (409, True), 404)
    assert (real["delete"], real["delete_again"]) == (True, False)
    assert real["foreign_member"] == (True, True)
    for key in emulated:
        if key in ("create", "update"):
            # valet-api says whose plan it is (the token's project, as none was sent); the emulator
            # only repeats what it was sent. Everything else is alike.
            mine, theirs = _shape(real[key]), _shape(emulated[key])
            assert mine.pop("project_id") == "str"
            theirs.pop("project_id", None)
            assert mine == theirs, key
        elif key in ("confirm", "replan"):
            # The emulator also echoes the placement request's project_id; valet-api keeps the plan's.
            theirs = _shape(emulated[key])
            theirs.pop("project_id", None)
            assert _shape(real[key]) == theirs, key
        else:
            assert real[key] == emulated[key], key
