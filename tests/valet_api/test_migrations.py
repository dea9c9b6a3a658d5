"""The schema comes from alembic alone: up from empty it is exactly the tables the code uses."""

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa
from alembic import autogenerate
from alembic import migration as alembic_migration
from valet_api_fakes import make_conf

from valet_api.db import api as db
from valet_api.db import migration
from valet_api.db import tables

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _schema_diff(engine):
    with engine.connect() as conn:
        return autogenerate.compare_metadata(alembic_migration.MigrationContext.configure(conn), tables.metadata)


@pytest.fixture(params=["sqlite", "mariadb"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return "sqlite:///%s" % (tmp_path / "valet.sqlite")
    return request.getfixturevalue("mariadb").create_database("valet_migrations")


def test_upgrade_from_empty_gives_the_tables_the_code_uses(url):
    engine = db.Database(make_conf(url)).engine
    assert migration.version(engine) is None
    migration.upgrade(engine)
    assert migration.version(engine) == "0001"
    assert _schema_diff(engine) == []


def test_valet_manage_db_sync_twice_is_a_no_op(tmp_path):
    url = "sqlite:///%s" % (tmp_path / "valet.sqlite")
    conf_file = tmp_path / "valet.conf"
    conf_file.write_text("[database]\nconnection = %s\n" % url)
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, "files", "valet_api"))

    def manage(*args):
        return subprocess.run(
            [sys.executable, "-m", "valet_api.cmd.manage", "--config-file", str(conf_file)] + list(args),
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    assert manage("db", "version").strip() == "no schema"
    assert "revision 0001" in manage("db", "sync")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO hosts (name, generation) VALUES ('h1', 7)"))
    assert "revision 0001" in manage("db", "sync")
    assert manage("db", "version").strip() == "0001"
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT generation FROM hosts WHERE name = 'h1'")).scalar() == 7
