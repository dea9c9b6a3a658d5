"""Schema migrations (alembic, scripts shipped in valet_api/db/migrations)."""

from alembic import command
from alembic import config as alembic_config
from alembic import migration as alembic_migration


def _config(connection):
    cfg = alembic_config.Config()
    cfg.set_main_option("script_location", "valet_api.db:migrations")
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine, revision="head"):
    with engine.begin() as connection:
        command.upgrade(_config(connection), revision)


def version(engine):
    with engine.connect() as connection:
        return alembic_migration.MigrationContext.configure(connection).get_current_revision()
