"""valet-api's options, always registered on a ConfigOpts the caller passes in (never a global)."""

from oslo_log import log as logging
from oslo_policy import opts as policy_opts

from valet_api.conf import api
from valet_api.conf import cloud
from valet_api.conf import database
from valet_api.conf import engine

MODULES = (api, cloud, database, engine)


def register_opts(conf):
    for module in MODULES:
        module.register_opts(conf)
    logging.register_options(conf)
    # oslo.policy before 4.1 (Debian 12's 4.0.0) still looks for policy.json; every release reads
    # /etc/valet/policy.yaml, as operators write it for Nova and Placement.
    policy_opts.set_defaults(conf, policy_file="policy.yaml")
    return conf
