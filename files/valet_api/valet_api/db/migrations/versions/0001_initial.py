"""Initial schema: plans, placements, hosts (generations), groups and members.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLE = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def upgrade():
    op.create_table(
        "plans",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("stack_id", sa.String(255), nullable=False, unique=True),
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.Column("timeout", sa.String(255)),
        sa.Column("resources", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        **TABLE,
    )
    op.create_table(
        "placements",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("orchestration_id", sa.String(255), nullable=False, unique=True),
        sa.Column("plan_id", sa.String(36), sa.ForeignKey("plans.id"), nullable=False, index=True),
        sa.Column("name", sa.String(255)),
        sa.Column("host", sa.String(255), nullable=False, index=True),
        sa.Column("resource_id", sa.String(255)),
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.Column("exclusive", sa.String(511)),
        sa.Column("vcpu", sa.Integer, nullable=False),
        sa.Column("memory_mb", sa.Integer, nullable=False),
        sa.Column("disk_gb", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        **TABLE,
    )
    op.create_table(
        "hosts",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("rack", sa.String(255)),
        sa.Column("exclusive", sa.String(511)),
        **TABLE,
    )
    op.create_table(
        "groups",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
        **TABLE,
    )
    op.create_table(
        "group_members",
        sa.Column("group_id", sa.String(36), sa.ForeignKey("groups.id"), primary_key=True),
        sa.Column("project_id", sa.String(255), primary_key=True),
        **TABLE,
    )
