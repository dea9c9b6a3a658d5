"""valet-api's options, always registered on a ConfigOpts the caller passes in (never a global)."""

from oslo_log import log as logging

from valet_api.conf import api
from valet_api.conf import cloud
from valet_api.conf import database
from valet_api.conf import engine

MODULES = (api, cloud, database, engine)


def register_opts(conf):
    for module in MODULES:
        module.register_opts(conf)
    logging.register_options(conf)
    return conf
