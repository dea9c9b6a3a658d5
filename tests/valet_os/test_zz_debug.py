import pytest
import requests
from test_heat_plugin import make_stack, PLUGIN_DIR_TEMPLATE, heat  # noqa

@pytest.mark.parametrize("what", ["http", "token", "client", "none"])
def test_dbg(heat, valet_conf, emulator, monkeypatch, what):
    from heat.common import lifecycle_plugin_utils as l
    from valet_os.common import client
    orig = l.do_pre_ops
    def pre(*a, **k):
        if what == "http":
            requests.get(emulator.url.replace("/v1", "/"))
        if what == "client":
            client.ValetClient(valet_conf)
        if what == "token":
            client.ValetClient(valet_conf)._token()
        return orig(*a, **k)
    monkeypatch.setattr(l, "do_pre_ops", pre)
    valet_conf.set_override("stack_scheduler_hints", False)
    stk = make_stack(heat, PLUGIN_DIR_TEMPLATE)
    stk.store(); stk.create()
    new = make_stack(heat, PLUGIN_DIR_TEMPLATE, params={"parameters": {"kind": "diversity"}})
    stk.update(new)
    assert stk.state == ("UPDATE", "COMPLETE"), stk.status_reason
