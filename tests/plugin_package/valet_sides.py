"""Load Heat and Nova into one test process (imported by the valet_os tests)."""

import importlib
import sys

from oslo_config import cfg


def _import_side(modules):
    """Import Heat's or Nova's modules into the one process that hosts both.

    Both register a [DEFAULT] host option of their own on the global CONF, and
    oslo.config refuses the second, different one. Whichever comes second gets
    the slot: the option means the same for both (this machine's name).
    """
    missing = [m for m in modules if m not in sys.modules]
    if not missing:
        return
    if "host" in cfg.CONF._opts:
        cfg.CONF.unregister_opt(cfg.CONF._opts["host"]["opt"])
    for name in modules:
        importlib.import_module(name)


def load_heat():
    _import_side(
        [
            "heat.common.config",
            "heat.engine.resources",
            "heat.engine.stack",
            "heat.engine.template",
            "heat.common.template_format",
            "heat.common.lifecycle_plugin_utils",
            "heat.tests.utils",
        ]
    )


def load_nova():
    _import_side(
        [
            "nova.conf",
            "nova.objects",
            "nova.scheduler.filters",
            "nova.scheduler.host_manager",
            "nova.scheduler.filters.compute_filter",
        ]
    )
    import nova.objects

    nova.objects.register_all()


def heat_dummy_db(conf):
    """Heat's in-memory SQLite, as heat.tests.utils.setup_dummy_db makes it.

    Done with overrides rather than oslo.db's set_defaults, which re-registers the
    [database] options and clashes with Nova's copies once Nova is loaded.
    """
    from heat.db import models
    from heat.tests import utils

    conf.set_override("connection", "sqlite://", group="database")
    conf.set_override("sqlite_synchronous", False, group="database")
    engine = utils.get_engine()
    engine.dispose()
    models.BASE.metadata.create_all(engine)
    engine.connect()


# Two stand-in members and one group whose kind is a parameter (an update can change it).
GROUP_TEMPLATE = """
heat_template_version: 2015-04-30
parameters:
  kind: {type: string, default: affinity}
resources:
  a: {type: OS::Heat::None}
  b: {type: OS::Heat::None}
  group:
    type: ATT::Valet::GroupAssignment
    properties:
      group_type: {get_param: kind}
      level: host
      resources: [{get_resource: a}, {get_resource: b}]
"""


def make_stack(utils, text, name="teststack", params=None, convergence=False):
    from heat.common import template_format
    from heat.engine import environment
    from heat.engine import stack
    from heat.engine import template

    tmpl = template.Template(template_format.parse(text), env=environment.Environment(params or {}))
    return stack.Stack(utils.dummy_context(), name, tmpl, convergence=convergence)


def reload(stk):
    from heat.engine import stack

    return stack.Stack.load(stk.context, stack_id=stk.id)
