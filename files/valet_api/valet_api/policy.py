"""The oslo.policy Enforcer (entry point oslo.policy.enforcer `valet_api`)."""

from oslo_config import cfg
from oslo_policy import policy

from valet_api import policies


def enforcer(conf):
    enf = policy.Enforcer(conf)
    enf.register_defaults(policies.list_rules())
    return enf


def get_enforcer():
    """For oslopolicy-* tools, which parse the command line themselves."""
    conf = cfg.ConfigOpts()
    conf([], project="valet")
    return enforcer(conf)
