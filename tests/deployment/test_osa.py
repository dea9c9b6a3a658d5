"""valet_openstack_deployment: osa, proved with openstack-ansible's own renderer and Heat's / Nova's code.

site.yml writes the user-variables files into a tmp /etc/openstack_deploy; a playbook then does
what os_nova / os_heat do with them: every user_*.yml as extra vars (as the openstack-ansible
wrapper passes them), nova.conf / heat.conf through config_template with the role's conf
overrides, the *_user_pip_packages pip installed into venv-like prefixes. The probe of
valet.openstack.valet_verify then loads the result with Nova 34's and Heat 27's own code.
"""

import json
import os
import re
import sys

import yaml
from deploy_helpers import REPO
from deploy_helpers import VALET_PASSWORD
from deploy_helpers import Site
from deploy_helpers import pip_install_prefix
from deploy_helpers import probe
from deploy_helpers import recap
from deploy_helpers import run

VERSION = re.search(
    r'__version__ = "([^"]+)"', open(os.path.join(REPO, "files", "valet_os", "valet_os", "__init__.py")).read()
).group(1)

# The parts of os_nova's and os_heat's templates that Valet depends on, in our words: the
# enabled filters are the role's default list plus nova_scheduler_extra_filters, plugin_dirs is
# heat_plugin_dirs joined, everything else comes from the *_conf_overrides.
NOVA_TEMPLATE = """\
[DEFAULT]
debug = False
state_path = /var/lib/nova

[filter_scheduler]
max_io_ops_per_host = 10
enabled_filters = {{ (nova_scheduler_default_filters + nova_scheduler_extra_filters) | join(',') }}
host_subset_size = 1
"""
HEAT_TEMPLATE = """\
[DEFAULT]
debug = False
plugin_dirs = {{ heat_plugin_dirs | join(',') }}
num_engine_workers = 1

[database]
connection = sqlite://
"""
# os_nova's / os_heat's defaults for the variables the Valet file touches.
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
    "nova_scheduler_extra_filters": [],
    "nova_nova_conf_overrides": {},
    "nova_user_pip_packages": [],
    "heat_plugin_dirs": ["/usr/lib/heat", "/usr/local/lib/heat"],
    "heat_heat_conf_overrides": {},
    "heat_user_pip_packages": [],
}
RENDER_PLAYBOOK = """\
- name: Render nova.conf and heat.conf the way os_nova and os_heat do
  hosts: localhost
  gather_facts: false
  tasks:
    - name: nova.conf
      config_template:
        src: nova.conf.j2
        dest: "{{ out }}/nova.conf"
        config_overrides: "{{ nova_nova_conf_overrides }}"
        config_type: ini
    - name: heat.conf
      config_template:
        src: heat.conf.j2
        dest: "{{ out }}/heat.conf"
        config_overrides: "{{ heat_heat_conf_overrides }}"
        config_type: ini
    - name: what the venv builds would install
      copy:
        content: "{{ {'nova': nova_user_pip_packages, 'heat': heat_user_pip_packages} | to_json }}"
        dest: "{{ out }}/pip.json"
"""

OPERATOR_VARS = (
    "---\n# operator's own file, never touched\nnova_cpu_allocation_ratio: 4.0\ncontainer_cidr: 172.29.236.0/22\n"
)


class Osa:
    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.deploy = tmp_path / "openstack_deploy"
        self.deploy.mkdir()
        (self.deploy / "user_variables.yml").write_text(OPERATOR_VARS)
        self.out = tmp_path / "rendered"
        self.out.mkdir()
        # OSA's source-install venvs: /openstack/venvs/<service>-<venv_tag>
        self.heat_venv = tmp_path / "openstack" / "venvs" / "heat-untagged"
        self.nova_venv = tmp_path / "openstack" / "venvs" / "nova-untagged"

    def user_files(self):
        return sorted(p for p in self.deploy.iterdir() if p.name.startswith("user_") and p.suffix == ".yml")

    def render(self, renderer):
        """Run the os_nova/os_heat-like playbook with OSA's extra vars; install what they ask for."""
        work = self.tmp / "render"
        work.mkdir(exist_ok=True)
        (work / "nova.conf.j2").write_text(NOVA_TEMPLATE)
        (work / "heat.conf.j2").write_text(HEAT_TEMPLATE)
        (work / "play.yml").write_text(RENDER_PLAYBOOK)
        defaults = dict(OSA_DEFAULTS, heat_bin=str(self.heat_venv / "bin"), out=str(self.out))
        # Play vars stand for role defaults: below the extra vars, as in OSA.
        play = yaml.safe_load(RENDER_PLAYBOOK)
        play[0]["vars"] = defaults
        (work / "play.yml").write_text(yaml.safe_dump(play))
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
        extra = [arg for path in self.user_files() for arg in ("-e", "@" + str(path))]
        run(
            [
                os.path.join(renderer, "ansible-playbook"),
                "-i",
                "localhost,",
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
        return json.loads((self.out / "pip.json").read_text())


def osa_site(tmp_path, keystone, emulator, osa):
    site = Site(tmp_path, keystone, emulator, "osa")
    site.vars["valet_openstack_osa_config_dir"] = str(osa.deploy)
    return site


def without_valet(site, osa_renderer):
    """The controllers' Python before OSA ran: a venv without valet-openstack (the renderer's)."""
    site.vars["valet_openstack_venv"] = os.path.dirname(osa_renderer)


def test_osa_plays_install_and_render_valet(tmp_path, valet_user, emulator, osa_renderer, wheelhouse):
    osa = Osa(tmp_path)
    site = osa_site(tmp_path, valet_user, emulator, osa)
    without_valet(site, osa_renderer)
    operator_bytes = (osa.deploy / "user_variables.yml").read_bytes()

    # --check --diff: shows the file to come, writes nothing.
    out = site.run(args=["--check", "--diff"])
    assert recap(out)["failed"] == 0
    assert "nova_scheduler_extra_filters" in out and "ValetFilter" in out
    assert VALET_PASSWORD not in out
    assert [p.name for p in osa.user_files()] == ["user_variables.yml"]

    out = site.run()
    assert recap(out)["failed"] == 0
    assert VALET_PASSWORD not in out
    assert [p.name for p in osa.user_files()] == [
        "user_valet_openstack.yml",
        "user_valet_openstack_secrets.yml",
        "user_variables.yml",
    ]
    assert (osa.deploy / "user_variables.yml").read_bytes() == operator_bytes
    assert oct((osa.deploy / "user_valet_openstack_secrets.yml").stat().st_mode & 0o777) == "0o600"
    written = yaml.safe_load((osa.deploy / "user_valet_openstack.yml").read_text())
    assert written["nova_scheduler_extra_filters"] == ["ValetFilter"]
    # The password is a reference OSA resolves from the secrets file, never in the main file.
    valet = written["nova_nova_conf_overrides"]["valet"]
    assert valet["password"] == "{{ valet_openstack_admin_password }}"
    # keystoneauth1's names (issue 24.7); 1.1's admin_* names are gone, unset TLS options not written.
    assert valet["auth_type"] == "password" and valet["username"] == "valet"
    assert not [k for k in valet if k.startswith("admin_") or k in ("cafile", "insecure")]
    assert VALET_PASSWORD not in (osa.deploy / "user_valet_openstack.yml").read_text()
    # Until OSA ran, the role says what to run next.
    assert "os-heat-install.yml os-nova-install.yml" in out

    # Idempotent.
    assert recap(site.run())["changed"] == 0

    # What OSA does with it: render and build the venvs.
    pip = osa.render(osa_renderer)
    assert pip == {"nova": ["valet-openstack==" + VERSION], "heat": ["valet-openstack==" + VERSION]}
    for spec, prefix in ((pip["heat"][0], osa.heat_venv), (pip["nova"][0], osa.nova_venv)):
        pip_install_prefix(spec, prefix, find_links=wheelhouse)

    nova_conf = (osa.out / "nova.conf").read_text()
    assert "available_filters = nova.scheduler.filters.all_filters\n" in nova_conf
    assert "available_filters = valet_os.nova.valet_filter.ValetFilter\n" in nova_conf
    nova = probe("nova", osa.out / "nova.conf")
    for check in ("config", "available_filters", "enabled_filters", "filter_handler"):
        assert nova[check][0], (check, nova[check][1])
    assert "ValetFilter is last in" in nova["enabled_filters"][1]
    assert "NUMATopologyFilter" in nova["enabled_filters"][1]  # OSA's own filters kept

    heat = probe("heat", osa.out / "heat.conf")
    for check in ("config", "stack_scheduler_hints", "resource_registry", "lifecycle_plugin"):
        assert heat[check][0], (check, heat[check][1])
    plugin_dir = str(osa.heat_venv / "etc" / "valet_os" / "heat")
    assert plugin_dir in heat["resource_registry"][1]
    assert "/usr/lib/heat" in heat["resource_registry"][1]  # os_heat's own dirs kept

    # The secrets file gave the password to [valet] of both files.
    for name in ("nova.conf", "heat.conf"):
        assert "\npassword = %s\n" % VALET_PASSWORD in (osa.out / name).read_text()

    # Uninstall: only our files go; the package stays in the venvs until OSA rebuilds them.
    site.vars["valet_openstack_venv"] = sys.prefix  # a venv that has it, as OSA's have now
    out = site.run(playbook="playbooks/uninstall.yml")
    assert recap(out)["failed"] == 0
    assert [p.name for p in osa.user_files()] == ["user_variables.yml"]
    assert (osa.deploy / "user_variables.yml").read_bytes() == operator_bytes
    assert "venv_rebuild=true" in out


def test_osa_refuses_a_second_copy_and_merges_the_operators_values(tmp_path, valet_user, emulator, osa_renderer):
    osa = Osa(tmp_path)
    site = osa_site(tmp_path, valet_user, emulator, osa)
    clash = (
        OPERATOR_VARS + "nova_nova_conf_overrides:\n  DEFAULT:\n    cpu_allocation_ratio: 8.0\n"
        "nova_scheduler_extra_filters:\n  - AggregateInstanceExtraSpecsFilter\n"
    )
    (osa.deploy / "user_variables.yml").write_text(clash)
    out = site.run(ok=False)
    assert recap(out)["failed"] == 1
    assert (
        "%s sets nova_nova_conf_overrides, nova_scheduler_extra_filters, which %s sets too"
        % (osa.deploy / "user_variables.yml", osa.deploy / "user_valet_openstack.yml")
    ) in " ".join(out.split())
    assert "valet_openstack_osa_merge" in out
    assert [p.name for p in osa.user_files()] == ["user_variables.yml"]

    # The way out the message names: the operator's values in valet_openstack_osa_merge.
    (osa.deploy / "user_variables.yml").write_text(OPERATOR_VARS)
    out = site.run(
        extra={
            "valet_openstack_osa_merge": {
                "nova_nova_conf_overrides": {
                    "DEFAULT": {"cpu_allocation_ratio": 8.0},
                    "filter_scheduler": {"host_subset_size": 3},
                },
                "nova_scheduler_extra_filters": ["AggregateInstanceExtraSpecsFilter"],
                "heat_plugin_dirs": ["/srv/heat-plugins"],
            }
        }
    )
    assert recap(out)["failed"] == 0
    osa.render(osa_renderer)
    nova_conf = (osa.out / "nova.conf").read_text()
    assert "cpu_allocation_ratio = 8.0\n" in nova_conf
    assert "host_subset_size = 3\n" in nova_conf
    assert "AggregateInstanceExtraSpecsFilter,ValetFilter\n" in nova_conf
    heat_conf = (osa.out / "heat.conf").read_text()
    assert "plugin_dirs = /srv/heat-plugins,%s/etc/valet_os/heat\n" % osa.heat_venv in heat_conf


def test_packages_mode_refuses_a_host_another_tool_manages(tmp_path, valet_user, emulator):
    site = Site(tmp_path, valet_user, emulator, "packages")
    marker = tmp_path / "facts.d" / "openstack_ansible.fact"
    marker.parent.mkdir()
    marker.write_text("[nova]\nvenv_tag = 31.0.0\n")
    out = " ".join(site.run(extra={"valet_openstack_osa_marker": str(marker)}, ok=False).split())
    assert ("localhost: %s exists: openstack-ansible manages Heat and Nova on this host" % marker) in out
    assert "Set valet_openstack_deployment: osa" in out

    kolla = tmp_path / "kolla"
    (kolla / "nova-scheduler").mkdir(parents=True)
    (kolla / "nova-scheduler" / "nova.conf").write_text("[DEFAULT]\n")
    out = " ".join(site.run(extra={"valet_openstack_kolla_config_dir": str(kolla / "config")}, ok=False).split())
    assert "%s/nova-scheduler/nova.conf exists: kolla-ansible manages" % kolla in out
    assert "Set valet_openstack_deployment: kolla" in out
