"""Issue 11.1: after the rollout, Heat still searches its own default plugin directories.

Debian's packaged heat.conf has plugin_dirs only as a comment, so the role had to create the option:
it must list Heat's defaults (as the installed Heat defines them) before Valet's directory, and a
resource plugin an operator keeps in one of those directories must still load in heat-engine.
"""

import base64
import json
import time

from conftest import HEAT_LOG

PRISTINE = "/var/backups/molecule-pristine/heat.conf"
TYPE = "Operator::DefaultDir::Probe"
# An operator's own resource plugin, written for this test.
PLUGIN = f'''
from heat.engine import resource


class DefaultDirProbe(resource.Resource):
    """Creates nothing; it only has to be found in a default plugin directory."""

    properties_schema = {{}}

    def handle_create(self):
        self.resource_id_set(self.physical_resource_name())


def resource_mapping():
    return {{"{TYPE}": DefaultDirProbe}}
'''


def _heat(host, expr):
    """Evaluate expr with Heat's own config loaded from /etc/heat/heat.conf (as heat-engine does)."""
    code = (
        "import json\nfrom heat.common import config\nfrom oslo_config import cfg\n"
        "cfg.CONF(['--config-file', '/etc/heat/heat.conf'], project='heat')\n"
        f"print(json.dumps({expr}))\n"
    )
    encoded = base64.b64encode(code.encode()).decode()
    return json.loads(host.check_output(f"echo {encoded} | base64 -d | python3 2>/dev/null"))


def test_pristine_heat_conf_had_no_plugin_dirs(host):
    # The case of the issue: the option is only a comment in Debian's file.
    assert host.run(f"grep -E '^[[:space:]]*plugin_dirs[[:space:]]*[=:]' {PRISTINE}").rc == 1


def test_heat_defaults_come_first_and_valet_last(host):
    dirs = _heat(host, "cfg.CONF.plugin_dirs")
    default = _heat(host, "[o.default for g, opts in config.list_opts() for o in opts if o.name == 'plugin_dirs'][0]")
    assert "/usr/lib/heat" in default
    assert dirs[:-1] == default
    assert dirs[-1].endswith("/etc/valet_os/heat")


def test_plugin_in_a_default_dir_still_loads_in_heat_engine(host, cloud):
    path = "/usr/lib/heat/operator_default_dir_probe.py"
    host.check_output("mkdir -p /usr/lib/heat")
    encoded = base64.b64encode(PLUGIN.encode()).decode()
    host.check_output(f"echo {encoded} | base64 -d > {path}")
    try:
        offset = cloud.log_size(HEAT_LOG)
        host.check_output("service heat-engine restart")
        deadline = time.monotonic() + 180
        log = ""
        while time.monotonic() < deadline:
            log = cloud.log_since(HEAT_LOG, offset)
            if "ATT::Valet::GroupAssignment" in log:
                break
            time.sleep(2)
        # heat-engine's registry, written as it loads plugin_dirs: the operator's type and Valet's.
        assert f"Registered: [Plugin](User:False) {TYPE}" in log
        assert "Registered: [Plugin](User:False) ATT::Valet::GroupAssignment" in log
        types = json.loads(cloud.openstack("orchestration resource type list -f json"))
        assert TYPE in [t["Resource Type"] for t in types]
    finally:
        # heat-engine keeps the type until its next restart; the file is not ours to leave behind.
        host.run(f"rm -f {path}")
