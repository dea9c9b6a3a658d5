"""The real valet-api as roles/valet_api left it on the infra host (port 8090, SQLite, uwsgi under
the LSB init script: the service every plugin of this scenario calls): who runs it, its files'
owners and modes, its schema, and a plan it decides with the cloud's rack aggregates (made in
prepare.yml: r1-h1 r1-h2 in rack r1, r2-h1 r2-h2 in rack r2)."""

import uuid

from conftest import valet_call

MANAGE = "runuser -u valet -- /usr/local/bin/valet-manage --config-file /etc/valet/valet.conf"
call = valet_call


def test_runs_as_the_valet_user_under_uwsgi(host):
    procs = host.check_output("ps -eo user:20,args | grep '[v]alet_api.wsgi:application'").splitlines()
    assert procs and all(line.split()[0] == "valet" for line in procs), procs
    assert host.run("service valet-api status").rc == 0
    # A start while it runs (an operator's, or a test's after a fault) leaves the one uwsgi it had.
    masters = host.check_output("pgrep -f -P 1 '[v]alet_api.wsgi:application' || true").split()
    host.check_output("service valet-api start")
    assert host.check_output("pgrep -f -P 1 '[v]alet_api.wsgi:application' || true").split() == masters
    assert host.run("service valet-api status").rc == 0


def test_files_owners_and_modes(host):
    conf = host.file("/etc/valet/valet.conf")
    assert (conf.user, conf.group, conf.mode) == ("root", "valet", 0o640)
    db = host.file("/var/lib/valet/valet.sqlite")
    assert (db.user, db.mode) == ("valet", 0o600)


def test_schema_is_migrated(host):
    version = host.check_output(MANAGE + " db version").strip()
    assert version and version != "no schema"


def test_root_and_status_answer(host):
    assert call(host, "GET", "/", token=False)[0] in (200, 300)
    assert call(host, "GET", "/v1/status", token=False)[0] == 401
    status, body = call(host, "GET", "/v1/status")
    assert status == 200, body


def test_a_rack_diversity_plan_uses_the_rack_aggregates(host):
    """Two servers in a rack-level diversity group land in racks r1 and r2, one each."""
    stack, a, b, group = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    server = {"type": "OS::Nova::Server", "properties": {"flavor": "valet.tiny"}}
    body = {
        "plan_name": "molecule-racks-" + stack[:8],
        "stack_id": stack,
        "timeout": "60 sec",
        "resources": {
            a: dict(server, name="a"),
            b: dict(server, name="b"),
            group: {
                "name": "spread",
                "type": "ATT::Valet::GroupAssignment",
                "properties": {"group_type": "diversity", "level": "rack", "resources": [a, b]},
            },
        },
    }
    status, answer = call(host, "POST", "/v1/plans", body)
    try:
        assert status == 201, answer
        hosts = {u: p["location"] for u, p in answer["plan"]["placements"].items()}
        assert sorted(h.split("-")[0] for h in (hosts[a], hosts[b])) == ["r1", "r2"], hosts
    finally:
        call(host, "DELETE", "/v1/plans/" + stack)
    assert call(host, "GET", "/v1/plans/" + stack)[0] == 404


def test_no_secret_in_its_log(host):
    log = host.file("/var/log/valet/valet-api.log").content_string
    assert "valet-molecule-secret" not in log
