"""valet_deploy_tool_name: kolla, proved with kolla-ansible's own merge_configs and templates.

site.yml edits drop-ins in a tmp /etc/kolla/config and kolla-build.conf, adds the Valet password to
passwords.yml, writes a globals.d file naming the images built with Valet, the template override and
the package source. Then kolla-ansible (PyPI kolla-ansible 22.2.0, pinned in requirements-test.txt:
its action plugin, filters, group_vars, role defaults and the real nova / heat role templates) renders
nova-scheduler's nova.conf and heat-engine's heat.conf from the same sources in the same order as
its nova and heat roles; the addition is pip installed into a venv-like prefix the way the
override's RUN line does in the image; and the probe of valet.openstack.valet_verify loads the
result with Nova 34's and Heat 27's own code.
"""

import os
import re
import sys

import yaml
from ansible_env import ansible_env
from deploy_helpers import REPO
from deploy_helpers import VALET_PASSWORD
from deploy_helpers import Site
from deploy_helpers import pip_install_prefix
from deploy_helpers import probe
from deploy_helpers import recap
from deploy_helpers import run

KOLLA = os.path.join(sys.prefix, "share", "kolla-ansible", "ansible")
VERSION = re.search(
    r'__version__ = "([^"]+)"', open(os.path.join(REPO, "files", "valet_os", "valet_os", "__init__.py")).read()
).group(1)
HOST = "ctl1"
# Groups kolla's group_vars and the nova / heat templates look up.
GROUPS = [
    "control",
    "nova",
    "nova-api",
    "nova-scheduler",
    "nova-conductor",
    "heat",
    "heat-api",
    "heat-engine",
    "baremetal",
    "rabbitmq",
    "memcached",
    "mariadb",
    "keystone",
    "loadbalancer",
    "placement",
    "glance",
    "glance-api",
    "neutron",
    "cinder",
    "redis",
    "etcd",
    "opensearch",
    "prometheus",
]
GLOBALS = {
    "kolla_base_distro": "debian",
    "kolla_internal_vip_address": "10.0.0.10",
    "network_interface": "lo",
    "api_interface": "lo",
    "enable_heat": True,
    "openstack_release": "2026.1",
}
# The operator's drop-ins and build config before Valet.
OPERATOR_NOVA = (
    "[DEFAULT]\ncpu_allocation_ratio = 4.0\n\n[filter_scheduler]\n"
    "enabled_filters = ComputeFilter,ImagePropertiesFilter,AggregateInstanceExtraSpecsFilter\n"
)
OPERATOR_GLOBAL = "[DEFAULT]\ndebug = False\n"
OPERATOR_BUILD = "[DEFAULT]\nbase = debian\nnamespace = kolla\n"
RENDER_PLAYBOOK = """\
- name: Render nova-scheduler's nova.conf and heat-engine's heat.conf as kolla-ansible's roles do
  hosts: {host}
  gather_facts: true
  tasks:
    - name: Role defaults of nova and heat
      include_vars: "{{{{ item }}}}"
      loop: ["{kolla}/roles/nova/defaults/main.yml", "{kolla}/roles/heat/defaults/main.yml"]
    - name: nova.conf
      merge_configs:
        sources:
          - "{kolla}/roles/nova/templates/nova.conf.j2"
          - "{{{{ node_custom_config }}}}/global.conf"
          - "{{{{ node_custom_config }}}}/nova.conf"
          - "{{{{ node_custom_config }}}}/nova/nova-scheduler.conf"
          - "{{{{ node_custom_config }}}}/nova/{{{{ inventory_hostname }}}}/nova.conf"
        dest: "{out}/nova-scheduler/nova.conf"
        mode: "0660"
      vars:
        service_name: nova-scheduler
    - name: heat.conf
      merge_configs:
        sources:
          - "{kolla}/roles/heat/templates/heat.conf.j2"
          - "{{{{ node_custom_config }}}}/global.conf"
          - "{{{{ node_custom_config }}}}/heat.conf"
          - "{{{{ node_custom_config }}}}/heat/heat-engine.conf"
          - "{{{{ node_custom_config }}}}/heat/{{{{ inventory_hostname }}}}/heat.conf"
        dest: "{out}/heat-engine/heat.conf"
        mode: "0660"
      vars:
        service_name: heat-engine
    - name: the images kolla-ansible would run
      copy:
        content: >-
          {{{{ {{'nova-scheduler': nova_scheduler_image_full,
                'heat-engine': heat_engine_image_full}} | to_json }}}}
        dest: "{out}/images.json"
"""


class Kolla:
    def __init__(self, tmp_path, globals_=None, operator_nova=OPERATOR_NOVA):
        self.tmp = tmp_path
        self.root = tmp_path / "kolla"  # node_config (/etc/kolla)
        self.config = self.root / "config"  # node_custom_config (/etc/kolla/config)
        self.config.mkdir(parents=True)
        (self.root / "globals.yml").write_text(yaml.safe_dump(dict(GLOBALS, **(globals_ or {}))))
        # kolla-genpwd's result: every password set (kolla's example file, with values)
        with open(os.path.join(sys.prefix, "share", "kolla-ansible", "etc_examples", "kolla", "passwords.yml")) as f:
            passwords = {k: v if v is not None else "pw-" + k for k, v in yaml.safe_load(f).items()}
        (self.root / "passwords.yml").write_text(yaml.safe_dump(passwords))
        if operator_nova:
            (self.config / "nova.conf").write_text(operator_nova)
        (self.config / "global.conf").write_text(OPERATOR_GLOBAL)
        (self.root / "kolla-build.conf").write_text(OPERATOR_BUILD)
        self.image_venv = tmp_path / "image" / "var" / "lib" / "kolla" / "venv"
        self.out = tmp_path / "rendered"

    def snapshot(self):
        return {str(p.relative_to(self.root)): p.read_bytes() for p in sorted(self.root.rglob("*")) if p.is_file()}

    def render(self):
        work = self.tmp / "render"
        (work / "inventory").mkdir(parents=True, exist_ok=True)
        if not (work / "inventory" / "group_vars").exists():
            os.symlink(os.path.join(KOLLA, "group_vars"), work / "inventory" / "group_vars")
        lines = ["[control]", "%s ansible_connection=local ansible_python_interpreter=%s" % (HOST, sys.executable)]
        for group in GROUPS[1:]:
            lines += ["[%s:children]" % group, "control"]
        (work / "inventory" / "hosts.ini").write_text("\n".join(lines) + "\n")
        (work / "play.yml").write_text(RENDER_PLAYBOOK.format(host=HOST, kolla=KOLLA, out=self.out))
        for sub in ("nova-scheduler", "heat-engine"):
            (self.out / sub).mkdir(parents=True, exist_ok=True)
        env = ansible_env(
            ANSIBLE_ACTION_PLUGINS=os.path.join(KOLLA, "action_plugins"),
            ANSIBLE_FILTER_PLUGINS=os.path.join(KOLLA, "filter_plugins"),
            ANSIBLE_LIBRARY=os.path.join(KOLLA, "library"),
            ANSIBLE_MODULE_UTILS=os.path.join(KOLLA, "module_utils"),
            ANSIBLE_CONFIG=str(work / "none.cfg"),
        )
        playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
        # As the kolla-ansible CLI: globals.yml, then globals.d/*.yml, then passwords.yml, as extra vars.
        globals_d = sorted((self.root / "globals.d").glob("*.yml")) if (self.root / "globals.d").is_dir() else []
        extra = [
            a
            for p in [self.root / "globals.yml"] + globals_d + [self.root / "passwords.yml"]
            for a in ("-e", "@" + str(p))
        ]
        run(
            [
                playbook,
                "-i",
                str(work / "inventory" / "hosts.ini"),
            ]
            + extra
            + [
                "-e",
                "node_config=" + str(self.root),
                str(work / "play.yml"),
            ],
            env=env,
            cwd=str(work),
        )
        return self.out / "nova-scheduler" / "nova.conf", self.out / "heat-engine" / "heat.conf"


def kolla_site(tmp_path, keystone, emulator, kolla):
    site = Site(tmp_path, keystone, emulator, "kolla")
    site.vars.update(
        {
            "valet_deploy_tool_kolla_node_config": str(kolla.root),
            "valet_deploy_tool_kolla_venv": str(kolla.image_venv),
            "valet_deploy_tool_kolla_ledger": str(tmp_path / "state" / "kolla_ledger.json"),
        }
    )
    return site


def image_tag():
    digest = run(
        [
            sys.executable,
            os.path.join(REPO, "roles", "valet_openstack", "files", "source_digest.py"),
            os.path.join(REPO, "files", "valet_os"),
        ]
    ).stdout.strip()
    return "valet-%s-%s" % (VERSION, digest[:12])


def test_kolla_drop_ins_passwords_globals_and_image_override(tmp_path, valet_user, emulator, kolla_build):
    kolla = Kolla(tmp_path)
    site = kolla_site(tmp_path, valet_user, emulator, kolla)
    before = kolla.snapshot()

    # --check --diff: every drop-in change shown, nothing written, no password anywhere.
    out = site.run(args=["--check", "--diff"])
    assert recap(out)["failed"] == 0
    assert "+enabled_filters = ComputeFilter,ImagePropertiesFilter,AggregateInstanceExtraSpecsFilter,ValetFilter" in out
    assert "+available_filters = valet_os.nova.valet_filter.ValetFilter" in out
    assert VALET_PASSWORD not in out
    assert kolla.snapshot() == before

    out = site.run()
    assert recap(out)["failed"] == 0
    assert VALET_PASSWORD not in out
    assert recap(site.run())["changed"] == 0

    # Valet's own drop-in for nova-scheduler repeats the inherited filters: a later file replaces a key.
    own = (kolla.config / "nova" / "nova-scheduler.conf").read_text()
    enabled = "ComputeFilter,ImagePropertiesFilter,AggregateInstanceExtraSpecsFilter,ValetFilter"
    assert "enabled_filters = %s\n" % enabled in own
    assert (
        "available_filters = nova.scheduler.filters.all_filters\n"
        "available_filters = valet_os.nova.valet_filter.ValetFilter\n" in own
    )
    # The password: in passwords.yml only; the two services' own drop-ins reference it.
    for name in ("nova/nova-scheduler.conf", "heat/heat-engine.conf"):
        assert "\npassword = {{ valet_keystone_password }}\n" in (kolla.config / name).read_text()
    assert yaml.safe_load((kolla.root / "passwords.yml").read_text())["valet_keystone_password"] == VALET_PASSWORD
    holding = [
        str(p.relative_to(kolla.root)) for p in kolla.root.rglob("*") if p.is_file() and VALET_PASSWORD in p.read_text()
    ]
    assert holding == ["passwords.yml"]
    # Nothing of Valet's in the global heat.conf (heat-api reads it too).
    assert not (kolla.config / "heat.conf").exists()
    # kolla-ansible is pointed at the images built with Valet.
    tag = image_tag()
    assert yaml.safe_load((kolla.root / "globals.d" / "valet-openstack.yml").read_text()) == {
        "nova_scheduler_tag": tag,
        "heat_engine_tag": tag,
    }
    assert "kolla-build --tag %s" % tag in out
    # The operator's files keep their bytes where Valet has nothing to say.
    assert (kolla.config / "nova.conf").read_text() == OPERATOR_NOVA
    assert (kolla.config / "global.conf").read_text() == OPERATOR_GLOBAL
    build = (kolla.root / "kolla-build.conf").read_text()
    assert build.startswith(OPERATOR_BUILD)
    assert "template_override = %s/valet-openstack/template-override.j2" % kolla.root in build
    for image in ("nova-scheduler", "heat-engine"):
        assert (
            "[%s-additions-valet-openstack]\ntype = local\nlocation = %s/valet-openstack/valet-openstack\n"
            % (image, kolla.root)
            in build
        )
    override = (kolla.root / "valet-openstack" / "template-override.j2").read_text()
    assert override.startswith("{% extends parent_template %}")
    for block in ("nova_scheduler_footer", "heat_engine_footer"):
        assert "{%% block %s %%}" % block in override
    assert "{{ macros.install_pip(['/additions/valet-openstack']) }}" in override
    # kolla-build (the same release as kolla-ansible) reads kolla-build.conf, finds the override and renders
    # both Dockerfiles.
    work = tmp_path / "kolla-build"
    run(
        [
            os.path.join(kolla_build, "kolla-build"),
            "--config-file",
            str(kolla.root / "kolla-build.conf"),
            "--template-only",
            "--work-dir",
            str(work),
            "^nova-scheduler$",
            "^heat-engine$",
        ],
        cwd=str(tmp_path),
    )
    for image, user in (("nova/nova-scheduler", "nova"), ("heat/heat-engine", "heat")):
        dockerfile = (work / "docker" / image / "Dockerfile").read_text()
        tail = [line for line in dockerfile.splitlines() if line.strip()][-5:]
        assert tail == [
            "USER root",
            "ADD additions-archive /",
            "RUN python3 -m pip --no-cache-dir install --upgrade -c /requirements/upper-constraints.txt "
            "/additions/valet-openstack \\",
            "    && rm -rf /additions",
            "USER " + user,
        ], (image, tail)

    # The image build: kolla-build archives the addition, the override pip installs it in the venv.
    pip_install_prefix(str(kolla.root / "valet-openstack" / "valet-openstack"), kolla.image_venv)
    nova_conf, heat_conf = kolla.render()
    images = yaml.safe_load((kolla.out / "images.json").read_text())
    assert images["nova-scheduler"].endswith("/nova-scheduler:" + tag)
    assert images["heat-engine"].endswith("/heat-engine:" + tag)

    nova = probe("nova", nova_conf)
    for check in ("config", "available_filters", "enabled_filters", "filter_handler"):
        assert nova[check][0], (check, nova[check][1])
    assert "'AggregateInstanceExtraSpecsFilter', 'ValetFilter']" in nova["enabled_filters"][1]
    rendered = nova_conf.read_text()
    assert "cpu_allocation_ratio = 4.0" in rendered  # the operator's nova.conf still applies
    assert "transport_url = rabbit://" in rendered  # kolla's own template underneath
    # merge_configs resolved the reference from passwords.yml
    assert "\npassword = %s\n" % VALET_PASSWORD in rendered

    heat = probe("heat", heat_conf)
    for check in ("config", "stack_scheduler_hints", "resource_registry", "lifecycle_plugin"):
        assert heat[check][0], (check, heat[check][1])
    assert str(kolla.image_venv / "etc" / "valet_os" / "heat") in heat["resource_registry"][1]
    assert "/usr/lib/heat" in heat["resource_registry"][1]  # Heat's own dirs kept
    assert "\npassword = %s\n" % VALET_PASSWORD in heat_conf.read_text()

    # valet.openstack.kolla_verify: the probe inside the containers (a stand-in engine maps the
    # containers' /etc/<service>/<service>.conf to what kolla rendered and runs this venv's Python).
    engine = tmp_path / "engine"
    engine.write_text(ENGINE % (sys.executable, {"nova_scheduler": str(nova_conf), "heat_engine": str(heat_conf)}))
    engine.chmod(0o755)
    out = site.run(
        playbook="playbooks/kolla_verify.yml", extra={"valet_deploy_tool_kolla_container_engine": str(engine)}
    )
    assert recap(out)["failed"] == 0, out[-3000:]
    assert "container nova_scheduler: config, available_filters, enabled_filters" in " ".join(out.split())
    # ... and fails, naming the check, where the image lacks the package.
    broken = tmp_path / "broken.conf"
    broken.write_text("[DEFAULT]\n")
    engine.write_text(ENGINE % (sys.executable, {"nova_scheduler": str(broken), "heat_engine": str(heat_conf)}))
    out = " ".join(
        site.run(
            playbook="playbooks/kolla_verify.yml",
            ok=False,
            extra={"valet_deploy_tool_kolla_container_engine": str(engine)},
        ).split()
    )
    assert "container nova_scheduler:" in out and "ValetFilter" in out

    # Uninstall gives back the operator's bytes (passwords.yml included); what only Valet created is gone.
    out = site.run(playbook="playbooks/uninstall.yml")
    assert recap(out)["failed"] == 0
    assert kolla.snapshot() == before


# docker / podman exec <container> python3 -c <probe> <args>, run here instead of in a container.
ENGINE = """#!%s
import json, os, sys
conf = %r
args = json.loads(sys.argv[6])
args["config_file"] = conf[sys.argv[2]]
os.execv(sys.executable, [sys.executable, "-c", sys.argv[5], json.dumps(args)])
"""


def test_kolla_keeps_the_filters_of_its_own_template_with_blazar(tmp_path, valet_user, emulator):
    # No operator drop-in sets the filters: kolla's template does, with Blazar's two lines and its filter.
    kolla = Kolla(tmp_path, globals_={"enable_blazar": True}, operator_nova=None)
    site = kolla_site(tmp_path, valet_user, emulator, kolla)
    out = site.run()
    assert recap(out)["failed"] == 0
    nova_conf, _heat_conf = kolla.render()
    rendered = nova_conf.read_text()
    section = rendered[rendered.index("[filter_scheduler]") :].split("\n[")[0]
    assert (
        "available_filters = nova.scheduler.filters.all_filters\n"
        "available_filters = blazarnova.scheduler.filters.blazar_filter.BlazarFilter\n"
        "available_filters = valet_os.nova.valet_filter.ValetFilter\n" in section
    )
    assert (
        "enabled_filters = ComputeFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter,"
        "ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter,BlazarFilter,ValetFilter\n" in section
    )


def test_kolla_refuses_a_later_drop_in_without_valet(tmp_path, valet_user, emulator):
    kolla = Kolla(tmp_path)
    site = kolla_site(tmp_path, valet_user, emulator, kolla)
    per_host = kolla.config / "nova" / HOST / "nova.conf"
    per_host.parent.mkdir(parents=True)
    per_host.write_text("[filter_scheduler]\nenabled_filters = ComputeFilter\n")
    before = kolla.snapshot()
    raw = site.run(ok=False)
    assert recap(raw)["failed"] == 1
    out = " ".join(raw.split())
    assert (
        "%s sets filter_scheduler/enabled_filters without Valet's value, and kolla-ansible reads it after "
        "Valet's drop-in" % per_host
    ) in out
    assert kolla.snapshot() == before
