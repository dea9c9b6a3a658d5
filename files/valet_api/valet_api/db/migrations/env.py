"""Alembic environment: always run by valet_api.db.migration with a live connection."""

from alembic import context

from valet_api.db import tables

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=tables.metadata)
with context.begin_transaction():
    context.run_migrations()
