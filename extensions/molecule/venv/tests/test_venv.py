"""site.yml with valet_openstack_venv (and an editable install) on Heat 27 / Nova 34 running from
/openstack/venvs/openstack: the plugin went into the venv, not into the system Python, and the
venv services load it (testinfra)."""
import json

VENV = "/openstack/venvs/openstack"
SRC = "/opt/valet_os/src"  # valet_openstack_src_dir default: the editable install runs from it
PY = f"{VENV}/bin/python3"


def _paths(host):
    return json.loads(host.check_output(f"{PY} -m valet_os.paths"))


def test_installed_in_the_venv_editable(host):
    out = host.check_output(f"{PY} -m pip show -f valet-openstack")
    assert "Name: valet-openstack" in out
    # Editable: the module is imported from the staged source tree, not from site-packages.
    origin = host.check_output(f"cd / && {PY} -c 'import valet_os; print(valet_os.__file__)'")
    assert origin.startswith(SRC + "/")


def test_not_in_the_system_python(host):
    assert host.run("python3 -m pip show valet-openstack").rc != 0
    assert host.run("cd / && python3 -c 'import valet_os'").rc != 0


def test_plugin_dir_comes_from_the_source_tree(host):
    plugin_dir = _paths(host)["heat_plugin_dir"]
    assert plugin_dir == f"{SRC}/etc/valet_os/heat"
    assert host.file(plugin_dir).is_directory
    members = host.check_output(
        "python3 -c \"import configparser as c; p=c.RawConfigParser(strict=False); p.read('/etc/heat/heat.conf');"
        "print(p.get('DEFAULT','plugin_dirs'))\"")
    assert plugin_dir in [m.strip() for m in members.split(",")]


def test_heat_engine_27_registered_the_plugin(host):
    pids = host.check_output(f"pgrep -f '^heat-engine: master process \\[{VENV}/bin/heat-engine'").split()
    assert pids
    log = host.file("/var/log/heat/heat-engine.log").content_string.splitlines()
    # The registration line must come from the running (venv) engine, i.e. after the restart.
    mine = [line for line in log if len(line.split()) > 3 and line.split()[2] in pids]
    assert any("ATT::Valet::GroupAssignment" in line and "Registered" in line for line in mine)
    assert host.check_output(f"{PY} -c 'import heat.version as v; print(v.version_info.version_string())'").startswith("27.")


def test_resource_type_listed_by_heat(host):
    types = host.check_output("OS_CLOUD=testhost openstack orchestration resource type list -f value").split()
    assert "ATT::Valet::GroupAssignment" in types


def test_valet_filter_is_last(host):
    enabled = host.check_output(
        "python3 -c \"import configparser as c; p=c.RawConfigParser(strict=False); p.read('/etc/nova/nova.conf');"
        "print(p.get('filter_scheduler','enabled_filters'))\"")
    assert [m.strip() for m in enabled.split(",")][-1] == "ValetFilter"


def test_nova_scheduler_34_runs_with_the_filter(host):
    pids = host.check_output(f"pgrep -f '^nova-scheduler: master process \\[{VENV}/bin/nova-scheduler'").split()
    assert pids
    log = host.file("/var/log/nova/nova-scheduler.log").content_string.splitlines()
    mine = [line for line in log if len(line.split()) > 3 and line.split()[2] in pids]
    assert any("Starting scheduler node (version 34." in line for line in log[-200:])
    assert mine
    # Nova's own filter loader, in the venv, resolves the name from nova.conf.
    out = host.check_output(
        f"cd /tmp && {PY} -c \"import nova.conf, nova.scheduler.filters as f; from nova import config;"
        "config.parse_args(['x', '--config-file', '/etc/nova/nova.conf']);"
        "h=f.HostFilterHandler(); names=[c.__name__ for c in h.get_matching_classes(nova.conf.CONF.filter_scheduler.available_filters)];"
        "print('ValetFilter' in names)\"")
    assert out.strip().splitlines()[-1] == "True"
