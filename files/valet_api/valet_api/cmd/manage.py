"""valet-manage db sync | db version (the configuration as valet-api's: --config-file, /etc/valet)."""

import sys

from oslo_config import cfg

from valet_api import conf as valet_conf
from valet_api.db import api as db
from valet_api.db import migration


def _sync(conf):
    engine = db.Database(conf).engine
    migration.upgrade(engine)
    print("database schema at revision %s" % migration.version(engine))


def _version(conf):
    print(migration.version(db.Database(conf).engine) or "no schema")


def _add_commands(subparsers):
    parser = subparsers.add_parser("db", help="database schema")
    actions = parser.add_subparsers(dest="action")
    actions.required = True
    actions.add_parser("sync", help="upgrade the schema to the latest revision").set_defaults(func=_sync)
    actions.add_parser("version", help="print the schema's revision").set_defaults(func=_version)


def main(argv=None):
    conf = valet_conf.register_opts(cfg.ConfigOpts())
    conf.register_cli_opt(cfg.SubCommandOpt("category", title="commands", handler=_add_commands))
    conf(sys.argv[1:] if argv is None else argv, project="valet")
    conf.category.func(conf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
