"""valet.openstack.identity run for real (ansible ad-hoc) against the Keystone fixture.

Every test uses its own user/service names and service type, so the tests share
one Keystone without seeing each other's objects (two services of one type
would be a collision by design).
"""

import json
import uuid

import pytest
from ansible_env import run_ad_hoc
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3 as ks_v3


def run_module(args, collections_root, check=False, diff=True, env=None, cwd=None):
    """Run the module through ansible; return (result dict, raw stdout+stderr)."""
    options = (["--check"] if check else []) + (["--diff"] if diff else [])
    return run_ad_hoc("valet.openstack.identity", args, collections_root, options, env=env, cwd=cwd)


@pytest.fixture
def names():
    tag = uuid.uuid4().hex[:8]
    return {
        "user_name": "valet-%s" % tag,
        "service_name": "valet-%s" % tag,
        "service_type": "valet-%s" % tag,
        "user_password": "pw-%s-secret" % tag,
    }


@pytest.fixture
def base_args(keystone, names):
    args = {"auth": keystone.auth_dict(), "region_name": keystone.region, "endpoint_url": "http://192.0.2.10:8090/v1"}
    args.update(names)
    return args


def password_works(keystone, user, password):
    auth = ks_v3.Password(
        auth_url=keystone.auth_url,
        username=user,
        password=password,
        user_domain_id="default",
        project_name="service",
        project_domain_id="default",
    )
    try:
        ks_session.Session(auth=auth).get_token()
        return True
    except ks_exc.Unauthorized:
        return False


def footprint(kc, names):
    """What Keystone holds for these names: (user, service, {interface: endpoint})."""
    users = kc.users.list(name=names["user_name"], domain="default")
    services = list(kc.services.list(name=names["service_name"]))
    endpoints = {}
    if services:
        endpoints = {e.interface: e for e in kc.endpoints.list(service=services[0])}
    return (users[0] if users else None, services[0] if services else None, endpoints)


def test_create_then_idempotent(keystone, kc, names, base_args, collections_root):
    res, raw = run_module(base_args, collections_root)
    assert not res.get("failed"), res
    assert res["changed"] is True
    user, service, endpoints = footprint(kc, names)
    assert user is not None and user.enabled
    assert service.type == names["service_type"]
    assert {i: e.url for i, e in endpoints.items()} == {
        "public": "http://192.0.2.10:8090/v1",
        "internal": "http://192.0.2.10:8090/v1",
        "admin": "http://192.0.2.10:8090/v1",
    }
    assert all(e.region_id == "RegionOne" for e in endpoints.values())
    role = kc.roles.list(name="service")[0]  # the default role: the least the Valet user needs
    project = kc.projects.list(name="service", domain="default")[0]
    assert [a.role["id"] for a in kc.role_assignments.list(user=user)] == [role.id]
    assert kc.role_assignments.list(user=user, project=project, role=role)
    assert password_works(keystone, names["user_name"], names["user_password"])
    assert res["user"]["id"] == user.id
    assert res["service"]["id"] == service.id
    assert {i: v["id"] for i, v in res["endpoints"].items()} == {i: e.id for i, e in endpoints.items()}
    # neither the Valet password nor the admin one leaks into output or diff
    assert names["user_password"] not in raw
    assert keystone.admin_password not in raw
    assert res["diff"]["after"]["service"]["type"] == names["service_type"]

    again, raw = run_module(base_args, collections_root)
    assert again["changed"] is False, again["msg"]
    assert again["endpoints"] == res["endpoints"]
    assert names["user_password"] not in raw


def test_url_change_updates_endpoint_in_place(kc, names, base_args, collections_root):
    first, _ = run_module(base_args, collections_root)
    ids = {i: v["id"] for i, v in first["endpoints"].items()}
    args = dict(base_args)
    del args["endpoint_url"]
    args["endpoints"] = {
        "public": "https://valet.example.org/v1",
        "internal": "http://192.0.2.11:8090/v1",
        "admin": "http://192.0.2.11:8090/v1",
    }
    res, _ = run_module(args, collections_root)
    assert res["changed"] is True
    _, _, endpoints = footprint(kc, names)
    assert {i: e.id for i, e in endpoints.items()} == ids
    assert endpoints["public"].url == "https://valet.example.org/v1"
    assert endpoints["internal"].url == "http://192.0.2.11:8090/v1"
    assert res["diff"]["before"]["endpoints"]["public"] == "http://192.0.2.10:8090/v1"
    assert len(kc.endpoints.list(service=footprint(kc, names)[1])) == 3


def test_check_mode_changes_nothing(kc, names, base_args, collections_root):
    res, _ = run_module(base_args, collections_root, check=True)
    assert res["changed"] is True
    assert res["user"]["id"] is None
    assert footprint(kc, names) == (None, None, {})

    run_module(base_args, collections_root)
    before = {i: (e.id, e.url) for i, e in footprint(kc, names)[2].items()}
    args = dict(base_args, endpoint_url="http://192.0.2.99:8090/v1")
    res, _ = run_module(args, collections_root, check=True)
    assert res["changed"] is True
    assert {i: (e.id, e.url) for i, e in footprint(kc, names)[2].items()} == before


def test_update_password_always(keystone, names, base_args, collections_root):
    run_module(base_args, collections_root)
    args = dict(base_args, user_password="another-pw-123", update_password="always")
    res, raw = run_module(args, collections_root)
    assert res["changed"] is True
    assert "another-pw-123" not in raw
    assert password_works(keystone, names["user_name"], "another-pw-123")
    assert not password_works(keystone, names["user_name"], names["user_password"])
    # Keystone accepts the password now, so no change on a rerun
    again, _ = run_module(args, collections_root)
    assert again["changed"] is False
    # on_create (the default) leaves an existing password alone
    on_create, _ = run_module(base_args, collections_root)
    assert on_create["changed"] is False
    assert password_works(keystone, names["user_name"], "another-pw-123")


def test_placement_collision_fails_and_creates_nothing(kc, names, base_args, collections_root):
    if not kc.services.list(name="placement", type="placement"):
        kc.services.create("placement", type="placement", description="Nova Placement")
    args = dict(base_args, service_type="placement")
    res, _ = run_module(args, collections_root)
    assert res.get("failed") is True
    assert "placement" in res["msg"] and "Nova" in res["msg"] and "service_type" in res["msg"]
    assert footprint(kc, names) == (None, None, {})


def test_missing_region_is_an_error(kc, names, base_args, collections_root):
    res, _ = run_module(dict(base_args, region_name="NoSuchRegion"), collections_root)
    assert res.get("failed") is True
    assert "NoSuchRegion" in res["msg"] and "RegionOne" in res["msg"]
    assert footprint(kc, names) == (None, None, {})


@pytest.mark.parametrize("url", ["ftp://192.0.2.1/v1", "http:///v1", "http://192.0.2.1:99999/v1"])
def test_bad_url_is_an_error(kc, names, base_args, collections_root, url):
    res, _ = run_module(dict(base_args, endpoint_url=url), collections_root)
    assert res.get("failed") is True
    assert url in res["msg"]
    assert footprint(kc, names) == (None, None, {})


def test_absent_removes_everything(kc, names, base_args, collections_root):
    created, _ = run_module(base_args, collections_root)
    user_id = created["user"]["id"]
    args = {k: v for k, v in base_args.items() if k not in ("endpoint_url", "user_password")}
    args["state"] = "absent"

    res, _ = run_module(args, collections_root, check=True)
    assert res["changed"] is True
    assert footprint(kc, names)[1] is not None

    res, _ = run_module(args, collections_root)
    assert res["changed"] is True
    assert footprint(kc, names) == (None, None, {})
    assert not [e for e in kc.endpoints.list() if e.id in {v["id"] for v in created["endpoints"].values()}]
    assert not kc.role_assignments.list(user=user_id)

    again, _ = run_module(args, collections_root)
    assert again["changed"] is False


def test_absent_leaves_other_services_alone(kc, names, base_args, collections_root):
    """A service of our name but another type is not ours: absent keeps it."""
    other = kc.services.create(names["service_name"], type="other-%s" % names["service_type"])
    try:
        args = {k: v for k, v in base_args.items() if k not in ("endpoint_url", "user_password")}
        res, _ = run_module(dict(args, state="absent"), collections_root)
        assert res["changed"] is False
        assert kc.services.get(other.id).name == names["service_name"]
    finally:
        kc.services.delete(other)


def test_clouds_yaml(keystone, kc, names, base_args, collections_root, tmp_path):
    home = tmp_path / "home"
    (home / ".config" / "openstack").mkdir(parents=True)
    auth = keystone.auth_dict()
    clouds = {"clouds": {"fixture": {"auth": auth, "region_name": keystone.region, "interface": "public"}}}
    (home / ".config" / "openstack" / "clouds.yaml").write_text(json.dumps(clouds))
    args = {k: v for k, v in base_args.items() if k not in ("auth", "region_name")}
    args["cloud"] = "fixture"
    env = {"HOME": str(home)}
    res, raw = run_module(args, collections_root, env=env, cwd=str(tmp_path))
    assert not res.get("failed"), res
    assert res["changed"] is True
    assert footprint(kc, names)[1] is not None
    assert keystone.admin_password not in raw

    res, _ = run_module(dict(args, cloud="nosuch"), collections_root, env=env, cwd=str(tmp_path))
    assert res.get("failed") is True
    assert "nosuch" in res["msg"] and "fixture" in res["msg"]

    empty_home = tmp_path / "empty"
    empty_home.mkdir()
    res, _ = run_module(args, collections_root, env={"HOME": str(empty_home)}, cwd=str(empty_home))
    assert res.get("failed") is True
    assert "no clouds.yaml found" in res["msg"]
