"""valet_deploy_tool_name: osa, proved with openstack-ansible's own renderer and Heat's / Nova's code.

site.yml writes group_vars files for the heat_engine and nova_scheduler groups into a tmp
/etc/openstack_deploy; a playbook then does what os_nova / os_heat do with them on a scheduler, a
compute node and an engine of OSA's inventory: group_vars beside the inventory, every user_*.yml as
extra vars (as the openstack-ansible wrapper passes them), nova.conf / heat.conf through
config_template with the role's conf overrides, the *_user_pip_packages pip installed into venv-like
prefixes. The probe of valet.openstack.valet_verify then loads the result with Nova 34's and Heat 27's
own code. os_nova / os_heat themselves are stood in for (see NOVA_TEMPLATE): not on PyPI, not vendored.
A developer renders with the real roles instead by setting VALET_OSA_ROLES (see REAL_ROLES below and
tests/deployment/osa-real-roles.sh); CI does not.
"""

import json
import os
import re
import shutil
import sys

import yaml
from deploy_helpers import REPO
from deploy_helpers import VALET_PASSWORD
from deploy_helpers import VALET_USER
from deploy_helpers import Site
from deploy_helpers import pip_install_prefix
from deploy_helpers import probe
from deploy_helpers import recap
from deploy_helpers import run

VERSION = re.search(
    r'__version__ = "([^"]+)"', open(os.path.join(REPO, "files", "valet_os", "valet_os", "__init__.py")).read()
).group(1)

# os_nova's / os_heat's behaviour that Valet depends on, in our words, as os_nova defines it at stable/2026.1
# (openstack-ansible-os_nova 6195904d) and os_heat on master at 4c051376 (2026.1's development line; no
# stable/2026.1 branch in the checkout compared); no upstream text is copied. os_nova: [filter_scheduler] is
# rendered on nova-scheduler hosts only; Blazar is enabled when the inventory has Blazar hosts; then the
# role writes two available_filters lines (Nova's own set, Blazar's filter; the template tests the
# variable as it is, the filter list casts it to a boolean) and its enabled list is the default filters,
# then Blazar's, then nova_scheduler_extra_filters; nova_nova_conf_overrides goes over the template through
# config_template, so an override of available_filters replaces the template's lines. os_heat: plugin_dirs
# is heat_plugin_dirs joined; heat_heat_conf_overrides goes over the template. CI renders this stand-in:
# os_nova / os_heat are not on PyPI and this workplace does not vendor upstream code. With VALET_OSA_ROLES
# (REAL_ROLES below) a developer renders the real roles through the same tasks and assertions.
NOVA_TEMPLATE = """\
[DEFAULT]
debug = False
state_path = /var/lib/nova
{% if 'nova_scheduler' in group_names %}

[filter_scheduler]
max_io_ops_per_host = 10
{% if nova_blazar_scheduler_filters | length > 0 and nova_blazar_enabled %}
available_filters = nova.scheduler.filters.all_filters
available_filters = blazarnova.scheduler.filters.blazar_filter.BlazarFilter
{% endif %}
enabled_filters = {{ (nova_scheduler_default_filters
                      + (nova_blazar_scheduler_filters if nova_blazar_enabled | bool else [])
                      + nova_scheduler_extra_filters) | join(',') }}
host_subset_size = 1
{% endif %}
"""
HEAT_TEMPLATE = """\
[DEFAULT]
debug = False
plugin_dirs = {{ heat_plugin_dirs | join(',') }}
num_engine_workers = 1

[database]
connection = sqlite://
"""
# os_nova's / os_heat's defaults for the variables the Valet files touch (role defaults: below group_vars).
OSA_DEFAULTS = {
    "nova_scheduler_default_filters": [
        "ComputeFilter",
        "AggregateNumInstancesFilter",
        "AggregateIoOpsFilter",
        "ComputeCapabilitiesFilter",
        "ImagePropertiesFilter",
        "ServerGroupAntiAffinityFilter",
        "ServerGroupAffinityFilter",
        "NUMATopologyFilter",
    ],
    # on when the inventory has Blazar hosts (an operator may also set it)
    "nova_blazar_enabled": "{{ groups['blazar_all'] | default([]) | length > 0 }}",
    "nova_blazar_scheduler_filters": ["BlazarFilter"],
    "nova_scheduler_extra_filters": [],
    "nova_nova_conf_overrides": {},
    "nova_user_pip_packages": [],
    "heat_plugin_dirs": ["/usr/lib/heat", "/usr/local/lib/heat"],
    "heat_heat_conf_overrides": {},
    "heat_user_pip_packages": [],
}
# Stands for os_nova / os_heat on each host: nova.conf where os_nova runs, heat.conf where os_heat runs.
RENDER_TASKS = """\
- name: nova.conf
  config_template:
    src: nova.conf.j2
    dest: "{{ out }}/{{ inventory_hostname }}/nova.conf"
    config_overrides: "{{ nova_nova_conf_overrides }}"
    config_type: ini
  when: "'nova_all' in group_names"
- name: heat.conf
  config_template:
    src: heat.conf.j2
    dest: "{{ out }}/{{ inventory_hostname }}/heat.conf"
    config_overrides: "{{ heat_heat_conf_overrides }}"
    config_type: ini
  when: "'heat_all' in group_names"
- name: what the venv builds would install
  copy:
    content: "{{ {'nova': nova_user_pip_packages if 'nova_all' in group_names else [],
                  'heat': heat_user_pip_packages if 'heat_all' in group_names else []} | to_json }}"
    dest: "{{ out }}/{{ inventory_hostname }}/pip.json"
"""
RENDER_PLAYBOOK = """\
- name: Render nova.conf and heat.conf the way os_nova and os_heat do
  hosts: all
  gather_facts: {gather_facts}
  gather_subset: [min, hardware]
  roles: [os_stand_in]
"""
# Developer check, not CI: VALET_OSA_ROLES names a directory holding the os_nova and os_heat role trees
# of one pinned commit each (tests/deployment/osa-real-roles.sh extracts them from git dirs the developer
# fetched). Osa.render then renders with those roles' own templates, defaults/main.yml and vars/main.yml
# (where os_nova computes its enabled filter list) in place of NOVA_TEMPLATE / HEAT_TEMPLATE / OSA_DEFAULTS,
# through the same tasks (RENDER_TASKS do what the roles' post-install tasks do with these two files).
REAL_ROLES = os.environ.get("VALET_OSA_ROLES", "")
REAL_ROLE_FILES = {
    "os_nova": ("templates/nova.conf.j2", "defaults/main.yml", "vars/main.yml", "vars/source_install.yml"),
    "os_heat": ("templates/heat.conf.j2", "defaults/main.yml", "vars/main.yml", "vars/source_install.yml"),
}
if REAL_ROLES:
    _missing = [
        os.path.join(REAL_ROLES, role, name)
        for role, names in REAL_ROLE_FILES.items()
        for name in names
        if not os.path.isfile(os.path.join(REAL_ROLES, role, name))
    ]
    if _missing:
        raise RuntimeError("VALET_OSA_ROLES=%s lacks the role files %s" % (REAL_ROLES, ", ".join(_missing)))
# The real templates need more of OSA's inventory than the stand-in: what openstack-ansible's own
# group_vars and the operator's user_secrets.yml give every host. Our values, as few as render the two
# templates; none of them is something Valet sets or reads.
OSA_INVENTORY_VARS = {
    # service credentials and keys (user_secrets.yml in a real deploy); the service passwords mark the
    # sections only the real templates write (Osa.render checks that they appear)
    "nova_service_password": "nova-service-pw-of-this-test",
    "nova_container_mysql_password": "nova-db-pw-of-this-test",
    "nova_api_container_mysql_password": "nova-api-db-pw-of-this-test",
    "nova_oslomsg_rpc_password": "nova-rpc-pw-of-this-test",
    "nova_metadata_proxy_secret": "nova-metadata-secret-of-this-test",
    "heat_service_password": "heat-service-pw-of-this-test",
    "heat_stack_domain_admin_password": "heat-domain-pw-of-this-test",
    "heat_container_mysql_password": "heat-db-pw-of-this-test",
    "heat_oslomsg_rpc_password": "heat-rpc-pw-of-this-test",
    "heat_auth_encryption_key": "heat-auth-key-of-this-test",
    "memcached_encryption_key": "memcached-key-of-this-test",
    # endpoints and servers (OSA's group_vars derive them from the load balancer and the inventory)
    "keystone_service_adminuri": "http://keystone.test:5000",
    "keystone_service_adminurl": "http://keystone.test:5000/v3",
    "keystone_service_internaluri": "http://keystone.test:5000",
    "keystone_service_publicuri": "http://keystone.test:5000",
    "memcached_servers": "memcached.test:11211",
    "external_lb_vip_address": "lb.test",
    "keystone_service_internaluri_insecure": False,
    "keystone_service_adminuri_insecure": False,
    "keystone_service_region": "RegionOne",
    # what os_nova detects on a host without KVM (or an operator sets)
    "nova_virt_type": "qemu",
    # os_nova's vars/main.yml reads this name to start its console proxy list; the role does not define it
    "ironic_console_type": "disabled",
    # What os_nova computes for x86_64 computes (that list plus noVNC), given here because ansible-core
    # 2.18, which PyPI's config_template 2.1.1 needs, cannot compute it: os_nova's service map and its
    # console proxy list refer to each other, which only 2.19's lazy templating resolves.
    "nova_console_proxy_types": ["disabled", "novnc"],
}


# In real-role mode, before RENDER_TASKS: os_nova turns the entry of nova_virt_types for the host's virt type
# into host facts (the values a host does not set itself) before it writes nova.conf.
REAL_ROLE_PRE_TASKS = """\
- name: the settings of the host's virt type, as os_nova sets them before nova.conf
  set_fact:
    "{{ setting.key }}": "{{ setting.value }}"
  loop: "{{ nova_virt_types[nova_virt_type] | dict2items }}"
  loop_control:
    loop_var: setting
  when: "'nova_all' in group_names and setting.key not in hostvars[inventory_hostname]"
"""
# OSA's inventory, reduced: a scheduler, an engine and a compute node (group_vars/ beside it apply).
OSA_INVENTORY = """\
[nova_scheduler]
scheduler1
[nova_compute]
compute1
[heat_engine]
engine1
[nova_all:children]
nova_scheduler
nova_compute
[heat_all:children]
heat_engine
"""
HOSTS = ("scheduler1", "compute1", "engine1")

OPERATOR_VARS = (
    "---\n# operator's own file, never touched\nnova_cpu_allocation_ratio: 4.0\ncontainer_cidr: 172.29.236.0/22\n"
)


class Osa:
    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.deploy = tmp_path / "openstack_deploy"
        self.deploy.mkdir()
        (self.deploy / "openstack_user_config.yml").write_text("---\nused_ips: []\n")
        (self.deploy / "user_variables.yml").write_text(OPERATOR_VARS)
        self.out = tmp_path / "rendered"
        self.out.mkdir()
        # OSA's source-install venvs: /openstack/venvs/<service>-<venv_tag>
        self.heat_venv = tmp_path / "openstack" / "venvs" / "heat-untagged"
        self.nova_venv = tmp_path / "openstack" / "venvs" / "nova-untagged"
        # Hosts of OSA's blazar_all group (Blazar deployed: os_nova enables its filter).
        self.blazar_hosts = []

    def user_files(self):
        return sorted(p for p in self.deploy.iterdir() if p.name.startswith("user_") and p.suffix == ".yml")

    def snapshot(self):
        return {str(p.relative_to(self.deploy)): p.read_bytes() for p in sorted(self.deploy.rglob("*")) if p.is_file()}

    def holding(self, text):
        return sorted(
            str(p.relative_to(self.deploy)) for p in self.deploy.rglob("*") if p.is_file() and text in p.read_text()
        )

    def render(self, renderer):
        """Run the os_nova/os_heat stand-in on OSA's inventory and group_vars; return what each host's venv build
        would pip install."""
        work = self.tmp / "render"
        role = work / "roles" / "os_stand_in"
        for sub in ("defaults", "tasks", "templates", "vars"):
            (role / sub).mkdir(parents=True, exist_ok=True)
        (role / "tasks" / "main.yml").write_text((REAL_ROLE_PRE_TASKS if REAL_ROLES else "") + RENDER_TASKS)
        # heat_bin, which Valet's heat_plugin_dirs entry derives from: the venv in this test's tmp dir (in OSA
        # /openstack/venvs/heat-<venv_tag>/bin, set by os_heat's install tasks); out: where the tasks write.
        ours = {"heat_bin": str(self.heat_venv / "bin"), "out": str(self.out)}
        if REAL_ROLES:
            # The real roles' files, in one role: Ansible loads every file of defaults/main/ and vars/main/.
            # vars/source_install.yml is what os_nova / os_heat include for OSA's default install method.
            for name in ("defaults", "vars"):
                (role / name / "main").mkdir(exist_ok=True)
            for source, names in REAL_ROLE_FILES.items():
                shutil.copy(os.path.join(REAL_ROLES, source, names[0]), role / names[0])
                for name in names[1:]:
                    where, base = name.split("/")
                    shutil.copy(os.path.join(REAL_ROLES, source, name), role / where / "main" / (source + "_" + base))
            # OSA's inventory: the group vars of "all" (below group_vars/ and host vars, above role defaults).
            (work / "osa_inventory.yml").write_text(yaml.safe_dump({"all": {"vars": dict(OSA_INVENTORY_VARS, **ours)}}))
        else:
            (role / "templates" / "nova.conf.j2").write_text(NOVA_TEMPLATE)
            (role / "templates" / "heat.conf.j2").write_text(HEAT_TEMPLATE)
            (role / "defaults" / "main.yml").write_text(yaml.safe_dump(dict(OSA_DEFAULTS, **ours)))
        # The real templates read host facts (CPU architecture and count, OS family).
        (work / "play.yml").write_text(RENDER_PLAYBOOK.format(gather_facts=str(bool(REAL_ROLES)).lower()))
        blazar = "[blazar_all]\n" + "".join(host + "\n" for host in self.blazar_hosts) if self.blazar_hosts else ""
        (self.deploy / "inventory.ini").write_text(OSA_INVENTORY + blazar)
        for host in HOSTS:
            (self.out / host).mkdir(exist_ok=True)
        share = os.path.join(os.path.dirname(renderer), "share", "ansible", "plugins")
        env = dict(
            os.environ,
            ANSIBLE_ACTION_PLUGINS=os.path.join(share, "action"),
            ANSIBLE_LIBRARY=os.path.join(share, "modules"),
            ANSIBLE_CONFIG=str(work / "none.cfg"),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_LOCALHOST_WARNING="0",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
        )
        # As the openstack-ansible wrapper: every user_*.yml as extra vars.
        extra = [arg for path in self.user_files() for arg in ("-e", "@" + str(path))]
        inventories = ["-i", str(self.deploy / "inventory.ini")]
        if REAL_ROLES:
            inventories += ["-i", str(work / "osa_inventory.yml")]
        try:
            run(
                [
                    os.path.join(renderer, "ansible-playbook"),
                    *inventories,
                    "-c",
                    "local",
                    "-e",
                    "ansible_python_interpreter=" + os.path.join(renderer, "python"),
                    str(work / "play.yml"),
                ]
                + extra,
                env=env,
                cwd=str(work),
            )
        finally:
            (self.deploy / "inventory.ini").unlink()
        if REAL_ROLES:
            # Written by the real templates: the stand-in has no service user sections.
            for host, conf, password in (
                ("scheduler1", "nova.conf", "nova_service_password"),
                ("compute1", "nova.conf", "nova_service_password"),
                ("engine1", "heat.conf", "heat_service_password"),
            ):
                text = (self.out / host / conf).read_text()
                assert "\npassword = %s\n" % OSA_INVENTORY_VARS[password] in text, (host, conf, text)
        return {host: json.loads((self.out / host / "pip.json").read_text()) for host in HOSTS}


def osa_site(tmp_path, keystone, emulator, osa):
    site = Site(tmp_path, keystone, emulator, "osa")
    site.vars["valet_deploy_tool_osa_config_dir"] = str(osa.deploy)
    # Valet's inventory of the OSA cloud: the scheduler and the engine (OSA's group names).
    site.groups = {"heat_engine": ["engine1"], "nova_scheduler": ["scheduler1"], "nova_compute": ["compute1"]}
    site.vars["valet_deploy_tool_osa_fact_path"] = str(tmp_path / "facts.d")
    site.vars["valet_deploy_tool_osa_venvs_dir"] = str(tmp_path / "openstack" / "venvs")
    return site


def valet_files(osa):
    return sorted(
        str(p.relative_to(osa.deploy)) for p in (osa.deploy / "group_vars").rglob("valet_openstack*") if p.is_file()
    )


OURS = [
    "group_vars/heat_engine/valet_openstack.yml",
    "group_vars/heat_engine/valet_openstack_secrets.yml",
    "group_vars/nova_scheduler/valet_openstack.yml",
    "group_vars/nova_scheduler/valet_openstack_secrets.yml",
]


def test_osa_group_vars_install_and_render_valet_on_the_two_groups_only(
    tmp_path, valet_user, emulator, osa_renderer, wheelhouse
):
    osa = Osa(tmp_path)
    site = osa_site(tmp_path, valet_user, emulator, osa)
    before = osa.snapshot()

    # --check --diff: shows the files to come, writes nothing.
    out = site.run(args=["--check", "--diff"])
    assert recap(out)["failed"] == 0
    assert "nova_scheduler_extra_filters" in out and "ValetFilter" in out
    assert VALET_PASSWORD not in out
    assert osa.snapshot() == before

    out = site.run()
    assert recap(out)["failed"] == 0
    assert VALET_PASSWORD not in out
    assert valet_files(osa) == OURS
    # The operator's files keep their bytes; no user_*.yml of Valet's (they reach every host).
    assert [p.name for p in osa.user_files()] == ["user_variables.yml"]
    assert {k: v for k, v in osa.snapshot().items() if k not in OURS} == before
    # The password is in the two groups' secrets files (0600) and nowhere else.
    assert osa.holding(VALET_PASSWORD) == [OURS[1], OURS[3]]
    for name in (OURS[1], OURS[3]):
        assert oct((osa.deploy / name).stat().st_mode & 0o777) == "0o600"
    nova_vars = yaml.safe_load((osa.deploy / OURS[2]).read_text())
    heat_vars = yaml.safe_load((osa.deploy / OURS[0]).read_text())
    assert sorted(nova_vars) == ["nova_nova_conf_overrides", "nova_scheduler_extra_filters", "nova_user_pip_packages"]
    assert sorted(heat_vars) == ["heat_heat_conf_overrides", "heat_plugin_dirs", "heat_user_pip_packages"]
    assert nova_vars["nova_scheduler_extra_filters"] == ["ValetFilter"]
    valet = nova_vars["nova_nova_conf_overrides"]["valet"]
    assert valet["password"] == "{{ valet_openstack_admin_password }}"
    assert valet["auth_type"] == "password" and valet["username"] == VALET_USER
    assert not [k for k in valet if k.startswith("admin_") or k in ("cafile", "insecure")]
    # The venv comes from OSA: heat_bin is os_heat's /openstack/venvs/heat-<venv_tag>/bin.
    assert heat_vars["heat_plugin_dirs"][-1] == "{{ heat_bin | dirname }}/etc/valet_os/heat"
    # Until OSA ran there is no venv tag: the role says what to run.
    assert "os-heat-install.yml os-nova-install.yml" in out
    assert "no venv recorded by openstack-ansible yet" in out

    assert recap(site.run())["changed"] == 0

    # What OSA does with it: render per host and build the venvs.
    pip = osa.render(osa_renderer)
    package = "valet-openstack==" + VERSION
    assert pip == {
        "scheduler1": {"nova": [package], "heat": []},
        "compute1": {"nova": [], "heat": []},
        "engine1": {"nova": [], "heat": [package]},
    }
    compute = (osa.out / "compute1" / "nova.conf").read_text()
    assert "[valet]" not in compute and VALET_PASSWORD not in compute
    for spec, prefix in ((package, osa.heat_venv), (package, osa.nova_venv)):
        pip_install_prefix(spec, prefix, find_links=wheelhouse)

    nova_conf = osa.out / "scheduler1" / "nova.conf"
    text = nova_conf.read_text()
    assert "available_filters = nova.scheduler.filters.all_filters\n" in text
    assert "available_filters = valet_os.nova.valet_filter.ValetFilter\n" in text
    assert "blazar" not in text.lower()
    nova = probe("nova", nova_conf)
    for check in ("config", "available_filters", "enabled_filters", "filter_handler"):
        assert nova[check][0], (check, nova[check][1])
    assert "ValetFilter is last in" in nova["enabled_filters"][1]
    assert "NUMATopologyFilter" in nova["enabled_filters"][1]  # OSA's own filters kept

    heat_conf = osa.out / "engine1" / "heat.conf"
    heat = probe("heat", heat_conf)
    for check in ("config", "stack_scheduler_hints", "resource_registry", "lifecycle_plugin"):
        assert heat[check][0], (check, heat[check][1])
    assert str(osa.heat_venv / "etc" / "valet_os" / "heat") in heat["resource_registry"][1]
    assert "/usr/lib/heat" in heat["resource_registry"][1]  # os_heat's own dirs kept
    for conf in (nova_conf, heat_conf):
        assert "\npassword = %s\n" % VALET_PASSWORD in conf.read_text()

    # After OSA's plays: the venv of each service is read from OSA's facts (venv_tag).
    facts = tmp_path / "facts.d"
    facts.mkdir()
    (facts / "openstack_ansible.fact").write_text("[nova]\nvenv_tag = 31.1.0\n\n[heat]\nvenv_tag = 31.1.0\n")
    site.vars["valet_deploy_tool_verify"] = False
    site.groups = {"heat_engine": ["localhost"], "nova_scheduler": ["localhost"]}
    out = " ".join(site.run().split())
    venvs = tmp_path / "openstack" / "venvs"
    assert "nova has no valet-openstack in %s/nova-31.1.0" % venvs in out
    # With the package in that venv, valet_openstack's verify runs with its Python (here it finds no
    # running nova-scheduler and no /etc/nova/nova.conf on this machine, and says so).
    os.symlink(sys.prefix, venvs / "nova-31.1.0")
    site.vars["valet_deploy_tool_verify"] = True
    del site.vars["valet_openstack_venv"]  # not typed by hand: OSA's fact gives it
    out = " ".join(site.run(ok=False).split())
    assert "nova verification failed (/etc/nova/nova.conf, python %s/nova-31.1.0/bin/python" % venvs in out

    # Uninstall: our files and the directories we made go; the operator's bytes stay.
    site.groups = {"heat_engine": ["engine1"], "nova_scheduler": ["scheduler1"]}
    out = site.run(playbook="playbooks/uninstall.yml")
    assert recap(out)["failed"] == 0
    assert osa.snapshot() == before
    assert not (osa.deploy / "group_vars").exists() or not list((osa.deploy / "group_vars").iterdir())
    assert "venv_rebuild=true" in out


def test_osa_merges_the_operators_group_vars_and_keeps_blazar(tmp_path, valet_user, emulator, osa_renderer):
    osa = Osa(tmp_path)
    site = osa_site(tmp_path, valet_user, emulator, osa)
    group_vars = osa.deploy / "group_vars"
    group_vars.mkdir()
    (group_vars / "all.yml").write_text(
        "---\nnova_nova_conf_overrides:\n  DEFAULT:\n    cpu_allocation_ratio: 8.0\n"
        "  filter_scheduler:\n    host_subset_size: 3\n"
        "nova_scheduler_extra_filters:\n  - AggregateInstanceExtraSpecsFilter\n"
        "heat_plugin_dirs:\n  - /srv/heat-plugins\n"
    )
    # Blazar deployed the way OSA deploys it: its hosts in the inventory (here beside nova-scheduler).
    osa.blazar_hosts = ["scheduler1"]
    out = site.run()
    assert recap(out)["failed"] == 0
    osa.render(osa_renderer)
    scheduler = (osa.out / "scheduler1" / "nova.conf").read_text()
    # The operator's override survives next to Valet's, on the scheduler (Valet's file carries it) ...
    assert "cpu_allocation_ratio = 8.0\n" in scheduler
    assert "host_subset_size = 3\n" in scheduler
    # ... and still reaches the compute node, which gets nothing of Valet's.
    compute = (osa.out / "compute1" / "nova.conf").read_text()
    assert "cpu_allocation_ratio = 8.0\n" in compute and "[valet]" not in compute
    # Blazar: os_nova's two lines stay beside Valet's (in config_template's order, which Nova does not
    # mind), its filter stays enabled, ValetFilter is last.
    available = sorted(line for line in scheduler.splitlines() if line.startswith("available_filters = "))
    assert available == [
        "available_filters = blazarnova.scheduler.filters.blazar_filter.BlazarFilter",
        "available_filters = nova.scheduler.filters.all_filters",
        "available_filters = valet_os.nova.valet_filter.ValetFilter",
    ]
    assert "NUMATopologyFilter,BlazarFilter,AggregateInstanceExtraSpecsFilter,ValetFilter\n" in scheduler
    heat_conf = (osa.out / "engine1" / "heat.conf").read_text()
    assert "plugin_dirs = /srv/heat-plugins,%s/etc/valet_os/heat\n" % osa.heat_venv in heat_conf

    # valet_deploy_tool_osa_merge: merged too, over the group_vars.
    out = site.run(extra={"valet_deploy_tool_osa_merge": {"nova_nova_conf_overrides": {"DEFAULT": {"debug": True}}}})
    assert recap(out)["failed"] == 0
    osa.render(osa_renderer)
    scheduler = (osa.out / "scheduler1" / "nova.conf").read_text()
    assert "debug = True\n" in scheduler and "cpu_allocation_ratio = 8.0\n" in scheduler


def test_osa_refuses_values_that_would_replace_or_hide_valets(tmp_path, valet_user, emulator):
    osa = Osa(tmp_path)
    site = osa_site(tmp_path, valet_user, emulator, osa)
    before = osa.snapshot()
    # Extra vars replace group_vars: a user_*.yml setting one of Valet's variables is refused.
    clash = OPERATOR_VARS + "nova_nova_conf_overrides:\n  DEFAULT:\n    cpu_allocation_ratio: 8.0\n"
    (osa.deploy / "user_variables.yml").write_text(clash)
    out = " ".join(site.run(ok=False).split())
    assert (
        "%s sets nova_nova_conf_overrides: openstack-ansible passes every user_*.yml as extra vars"
        % (osa.deploy / "user_variables.yml")
        in out
    )
    assert "valet_deploy_tool_osa_merge" in out
    assert valet_files(osa) == []
    (osa.deploy / "user_variables.yml").write_text(OPERATOR_VARS)

    # A group_vars/<group>.yml file: Ansible would skip it once group_vars/<group>/ exists.
    (osa.deploy / "group_vars").mkdir()
    (osa.deploy / "group_vars" / "nova_scheduler.yml").write_text("---\nnova_scheduler_host_subset_size: 2\n")
    out = " ".join(site.run(ok=False).split())
    assert "Ansible reads group_vars/nova_scheduler/ instead of it" in out
    assert valet_files(osa) == []
    (osa.deploy / "group_vars" / "nova_scheduler.yml").unlink()

    # host_vars of a scheduler replace group_vars.
    (osa.deploy / "host_vars").mkdir()
    (osa.deploy / "host_vars" / "scheduler1.yml").write_text("---\nnova_user_pip_packages: [foo]\n")
    out = " ".join(site.run(ok=False).split())
    assert "host_vars/scheduler1.yml sets nova_user_pip_packages: host_vars replace" in out
    assert valet_files(osa) == []
    (osa.deploy / "host_vars" / "scheduler1.yml").unlink()
    (osa.deploy / "host_vars").rmdir()
    (osa.deploy / "group_vars").rmdir()
    assert osa.snapshot() == before


def test_the_variables_of_12s_deployment_modes_are_refused(tmp_path, valet_user, emulator):
    site = Site(tmp_path, valet_user, emulator, "packages")
    out = " ".join(site.run(extra={"valet_openstack_deployment": "osa"}, ok=False).split())
    assert "sets valet_openstack_deployment: valet_openstack no longer knows deployment tools" in out
    assert "valet_openstack_deployment -> valet_deploy_tool_name (role valet.openstack.valet_deploy_tool)" in out


def test_packages_mode_refuses_a_host_another_tool_manages(tmp_path, valet_user, emulator):
    site = Site(tmp_path, valet_user, emulator, "packages")
    marker = tmp_path / "facts.d" / "openstack_ansible.fact"
    marker.parent.mkdir()
    marker.write_text("[nova]\nvenv_tag = 31.0.0\n")
    out = " ".join(site.run(extra={"valet_openstack_osa_marker": str(marker)}, ok=False).split())
    assert ("localhost: %s exists: openstack-ansible manages Heat and Nova on this host" % marker) in out
    assert "Use the valet.openstack.valet_deploy_tool role with valet_deploy_tool_name: osa" in out

    kolla = tmp_path / "kolla"
    (kolla / "nova-scheduler").mkdir(parents=True)
    (kolla / "nova-scheduler" / "nova.conf").write_text("[DEFAULT]\n")
    out = " ".join(site.run(extra={"valet_openstack_kolla_node_config": str(kolla)}, ok=False).split())
    assert "%s/nova-scheduler/nova.conf exists: kolla-ansible manages" % kolla in out
    assert "valet_deploy_tool_name: kolla" in out
