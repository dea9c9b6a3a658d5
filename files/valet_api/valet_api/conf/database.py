from oslo_config import cfg
from oslo_db import options as db_options

GROUP = "database"
DEFAULT_CONNECTION = "sqlite:////var/lib/valet/valet.sqlite"
OPTS = [
    cfg.IntOpt(
        "decision_retries",
        default=10,
        min=0,
        help="How many times a placement decision is retried, each in a fresh transaction, when another "
        "valet-api process changed one of its hosts first (host generation conflict) or on a deadlock. "
        "A retry waits for the host rows' write locks first, so one retry is enough without deadlocks.",
    ),
]


def set_lib_defaults():
    """oslo.db's option defaults as valet-api has them (entry point oslo.config.opts.defaults, for the sample)."""
    cfg.set_defaults(db_options.database_opts, connection=DEFAULT_CONNECTION)


def register_opts(conf):
    # oslo.db's own [database] options, with valet's default connection.
    db_options.set_defaults(conf, connection=DEFAULT_CONNECTION)
    conf.register_opts(OPTS, group=GROUP)


def list_opts():
    return [(GROUP, OPTS)]
