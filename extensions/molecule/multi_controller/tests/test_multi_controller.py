"""Each host of the multi_controller scenario got exactly its share of the rollout (testinfra).

Run by `molecule verify -s multi_controller` against every container, before and after the
side effect (a failed upgrade that must leave every host's share as it was). Versions are
not pinned here: ctl1 legitimately carries the upgraded package after the side effect.
"""

import json

import pytest

HEAT_HOSTS = {"valet-mc-ctl1", "valet-mc-ctl2"}
NOVA_HOSTS = {"valet-mc-ctl1", "valet-mc-ctl3"}
VALET_API_HOSTS = {"valet-mc-ctl2", "valet-mc-ctl3"}
CONTROLLERS = HEAT_HOSTS | NOVA_HOSTS
INFRA = "valet-mc-infra"
VALET_API_PROC = "[v]alet_api.wsgi:application"
MANAGE = "runuser -u valet -- /usr/local/bin/valet-manage --config-file /etc/valet/valet.conf"
PRISTINE = "/var/backups/molecule-pristine"
HEAT_ENGINE = "^/usr/bin/python3 /usr/bin/heat-engine"
NOVA_SCHEDULER = "^/usr/bin/python3 /usr/bin/nova-scheduler"


@pytest.fixture()
def name(host):
    return host.backend.get_hostname()


def ini_values(host, path, section, option):
    # oslo.config's own parser, as Heat and Nova read the file (multi-valued lines included).
    code = (
        "import json,sys;from oslo_config import iniparser\n"
        "class P(iniparser.BaseParser):\n"
        "  def __init__(s): s.v={}; s.sec=''\n"
        "  def new_section(s, sec): s.sec=sec\n"
        "  def assignment(s, k, v): s.v.setdefault(s.sec+'/'+k, []).extend(v)\n"
        "p=P(); p.parse(open(sys.argv[1]))\n"
        "print(json.dumps(p.v.get(sys.argv[2], [])))\n"
    )
    out = host.check_output("python3 -c %s %s %s/%s", code, path, section, option)
    return json.loads(out)


def installed(host):
    run = host.run("python3 -m valet_os.paths")
    return json.loads(run.stdout) if run.rc == 0 else None


def test_package_only_on_controllers(host, name):
    paths = installed(host)
    if name in CONTROLLERS:
        assert paths is not None, "valet-openstack is not importable on a controller"
        assert host.file(paths["heat_plugin_dir"]).is_directory
    else:
        assert paths is None, "valet-openstack must not be installed on the infra host"


def test_heat_conf_share(host, name):
    conf = "/etc/heat/heat.conf"
    if name in HEAT_HOSTS:
        plugin_dir = installed(host)["heat_plugin_dir"]
        members = [m.strip() for v in ini_values(host, conf, "DEFAULT", "plugin_dirs") for m in v.split(",")]
        assert plugin_dir in members
        assert ini_values(host, conf, "valet", "url")[0].endswith(":8090/v1")
    else:
        assert host.run("cmp %s %s/heat.conf", conf, PRISTINE).rc == 0, "heat.conf changed on a non-heat host"


def test_nova_conf_share(host, name):
    conf = "/etc/nova/nova.conf"
    if name in NOVA_HOSTS:
        enabled = ini_values(host, conf, "filter_scheduler", "enabled_filters")[-1]
        assert enabled.split(",")[-1].strip() == "ValetFilter"
        available = ini_values(host, conf, "filter_scheduler", "available_filters")
        assert "valet_os.nova.valet_filter.ValetFilter" in available
        assert "nova.scheduler.filters.all_filters" in available
    else:
        assert host.run("cmp %s %s/nova.conf", conf, PRISTINE).rc == 0, "nova.conf changed on a non-nova host"


def test_only_own_services_run(host, name):
    if name not in CONTROLLERS:
        pytest.skip("the infra host runs neither heat-engine nor nova-scheduler")
    assert (host.run("pgrep -f '%s'" % HEAT_ENGINE).rc == 0) == (name in HEAT_HOSTS)
    assert (host.run("pgrep -f '%s'" % NOVA_SCHEDULER).rc == 0) == (name in NOVA_HOSTS)


def test_plugins_registered_with_heat_and_nova_code(host_via_ansible, name):
    # The collection's own proof, run on the host with Heat's / Nova's code; no log check
    # (the restart that logged the registration may lie a verify run behind).
    if name not in CONTROLLERS:
        pytest.skip("nothing is registered on the infra host")
    for component in sorted(c for c, hosts in (("heat", HEAT_HOSTS), ("nova", NOVA_HOSTS)) if name in hosts):
        result = host_via_ansible.ansible(
            "valet.openstack.valet_verify",
            "component=%s expect=present check_process=true log_file=''" % component,
            check=False,
        )
        assert not result.get("failed"), result.get("msg")
        assert "all" in result["msg"] and "checks passed" in result["msg"]


def test_heat_engine_loaded_the_resource_plugin(host, name):
    if name not in HEAT_HOSTS:
        pytest.skip("no heat-engine here")
    log = host.file("/var/log/heat/heat-engine.log").content_string
    # Heat's global environment logs each resource type it registered from plugin_dirs.
    assert "Registered: [Plugin](User:False) ATT::Valet::GroupAssignment" in log


def infra_address(host):
    """The infra container's own address (the one prepare.yml found with podman inspect)."""
    return host.check_output("hostname -I").split()[0]


def test_identity_footprint_on_infra(host, name):
    if name in CONTROLLERS:
        pytest.skip("Keystone lives on the infra host")
    out = host.check_output("OS_CLOUD=testhost openstack endpoint list --service valet -f json")
    urls = {e["URL"] for e in json.loads(out)}
    # The load balancer's address (haproxy on this container), never one valet-api host's.
    assert urls == {"http://%s:8090/v1" % infra_address(host)}, urls
    assert host.run("pgrep -x haproxy").rc == 0


def test_valet_api_only_on_its_hosts(host, name):
    procs = host.run("ps -eo user:20,args | grep '%s'" % VALET_API_PROC).stdout.splitlines()
    if name in VALET_API_HOSTS:
        assert procs and all(line.split()[0] == "valet" for line in procs), procs
        assert host.run("service valet-api status").rc == 0
    else:
        assert not procs, procs
        assert not host.file("/etc/valet/valet.conf").exists


def test_valet_api_hosts_share_one_mariadb_database(host, name):
    """One config per host, each naming the infra's MariaDB; no SQLite file; the schema migrated."""
    if name not in VALET_API_HOSTS:
        pytest.skip("valet-api runs on ctl2 and ctl3")
    conf = host.file("/etc/valet/valet.conf")
    assert (conf.user, conf.group, conf.mode) == ("root", "valet", 0o640)
    (url,) = ini_values(host, conf.path, "database", "connection")
    address = host.check_output("grep -o 'http://[0-9.]*:5000' %s | head -1", conf.path)[len("http://") : -len(":5000")]
    assert url.startswith("mysql+pymysql://valet:") and url.endswith("@%s/valet" % address), "not the infra's MariaDB"
    assert not host.file("/var/lib/valet/valet.sqlite").exists
    version = host.check_output(MANAGE + " db version").strip()
    assert version and version != "no schema"


def test_the_valet_database_on_infra(host, name):
    if name != INFRA:
        pytest.skip("MariaDB runs on the infra host")
    tables = set(host.check_output("mysql -N -B -e 'SHOW TABLES' valet").split())
    assert {"alembic_version", "plans", "placements", "hosts"} <= tables, tables
    assert len(host.check_output("mysql -N -B -e 'SELECT version_num FROM alembic_version' valet").split()) == 1
    # The role's user, from any host (both valet-api hosts connect with it).
    grants = host.check_output("mysql -N -B -e \"SHOW GRANTS FOR 'valet'@'%'\"")
    assert "ON `valet`.*" in grants
