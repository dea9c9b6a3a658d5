"""The schema as SQLAlchemy Core tables. Changed only together with a new alembic revision."""

import sqlalchemy as sa

metadata = sa.MetaData()

ID = 36  # uuid text
NAME = 255

plans = sa.Table(
    "plans",
    metadata,
    sa.Column("id", sa.String(ID), primary_key=True),
    sa.Column("name", sa.String(NAME), nullable=False),
    sa.Column("stack_id", sa.String(NAME), nullable=False, unique=True),
    sa.Column("project_id", sa.String(NAME), nullable=False),
    sa.Column("timeout", sa.String(NAME)),
    sa.Column("resources", sa.Text, nullable=False),  # JSON: {uuid: {name, type, properties}}
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

placements = sa.Table(
    "placements",
    metadata,
    sa.Column("id", sa.String(ID), primary_key=True),
    sa.Column("orchestration_id", sa.String(NAME), nullable=False, unique=True),
    sa.Column("plan_id", sa.String(ID), sa.ForeignKey("plans.id"), nullable=False, index=True),
    sa.Column("name", sa.String(NAME)),
    sa.Column("host", sa.String(NAME), nullable=False, index=True),
    sa.Column("resource_id", sa.String(NAME)),
    sa.Column("project_id", sa.String(NAME), nullable=False),
    sa.Column("exclusive", sa.String(2 * NAME + 1)),  # the exclusivity key it holds its host under
    sa.Column("vcpu", sa.Integer, nullable=False),
    sa.Column("memory_mb", sa.Integer, nullable=False),
    sa.Column("disk_gb", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

# One row per host valet-api has decided about: its generation is the compare-and-set that
# serializes decisions touching it across processes; exclusive is the key it is reserved under.
hosts = sa.Table(
    "hosts",
    metadata,
    sa.Column("name", sa.String(NAME), primary_key=True),
    sa.Column("generation", sa.Integer, nullable=False, default=0),
    sa.Column("rack", sa.String(NAME)),  # as the cloud last said: reservations are released per rack
    sa.Column("exclusive", sa.String(2 * NAME + 1)),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

groups = sa.Table(
    "groups",
    metadata,
    sa.Column("id", sa.String(ID), primary_key=True),
    sa.Column("name", sa.String(NAME), nullable=False, unique=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

group_members = sa.Table(
    "group_members",
    metadata,
    sa.Column("group_id", sa.String(ID), sa.ForeignKey("groups.id"), primary_key=True),
    sa.Column("project_id", sa.String(NAME), primary_key=True),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)
