"""The upgrade from release 1.0, which forced Heat's legacy engine, on the test host's real Heat.

Stacks created under 1.0 keep the legacy engine for their whole life: after the upgrade (this
release's site.yml, which puts back the operator's convergence_engine) their updates and deletes
still reach valet-api, through the lifecycle plugin.
"""

import json

from test_heat_engines import LEDGER
from test_heat_engines import SCENARIO
from test_heat_engines import _ansible
from test_heat_engines import _calls
from test_heat_engines import _group
from test_heat_engines import _restart_heat_engine
from test_heat_engines import _run
from test_heat_engines import _stack_id
from test_heat_engines import _stacks_of

LEGACY = "molecule-legacy"


def test_legacy_stack_of_release_1_0_is_heard_after_the_upgrade(cloud, host):
    # What release 1.0 did on install: [DEFAULT] convergence_engine = False through the role's
    # INI module and ledger, then a heat-engine restart. Stacks created then are legacy stacks.
    _ansible(
        "ansible",
        "all",
        "-m",
        "valet.openstack.oslo_ini",
        "-a",
        f"path=/etc/heat/heat.conf section=DEFAULT option=convergence_engine value=False ledger={LEDGER}",
    )
    _restart_heat_engine(cloud)
    cloud.delete_stack(LEGACY)
    cloud.clear()
    assert _run(cloud, "create", LEGACY)[0] == "CREATE_COMPLETE"
    legacy_id = _stack_id(cloud, LEGACY)
    assert not _stacks_of(host, legacy_id)[legacy_id][1]  # a legacy-engine stack
    # One POST per stack of the tree (the ResourceGroup and its members plan too); the top one kept.
    assert len(_calls(cloud, "POST")) == len(_stacks_of(host, legacy_id)) and cloud.plan(legacy_id) is not None

    # The upgrade: this release's site.yml, as an operator runs it.
    out = _ansible("ansible-playbook", str(SCENARIO / "converge.yml"))
    assert "convergence_engine" in out  # the retired option was handled by name
    lines = host.file("/etc/heat/heat.conf").content_string.splitlines()
    # The ledger put back what was there: Debian's comment only.
    assert [line for line in lines if "convergence_engine" in line] == ["#convergence_engine = true"]
    assert (
        host.check_output(f"python3 -c \"import json;print(json.load(open('{LEDGER}')))\"").count("convergence_engine")
        == 0
    )

    # A new stack runs on the convergence engine; the old one stays legacy and is still heard.
    cloud.clear()
    assert _run(cloud, "update", LEGACY, ["kind=diversity"])[0] == "UPDATE_COMPLETE"
    assert [p["path"] for p in _calls(cloud, "PUT")].count(f"/v1/plans/{legacy_id}") == 1
    assert _group(cloud.plan(legacy_id), "apps")["group_type"] == "diversity"
    cloud.clear()
    assert cloud.delete_stack(LEGACY) is None
    assert f"/v1/plans/{legacy_id}" in [d["path"] for d in _calls(cloud, "DELETE")]
    print(json.dumps({"legacy_stack": legacy_id, "heard": ["POST", "PUT", "DELETE"]}))
