"""One oslo.db enginefacade per application, and the data functions (SQLAlchemy Core) over it."""

import datetime
import json

import sqlalchemy as sa
from oslo_db.sqlalchemy import enginefacade

from valet_api.db import tables

# [database] options that are valet-api's, not oslo.db's.
OWN_OPTIONS = ("decision_retries",)


@enginefacade.transaction_context_provider
class DbContext:
    """What enginefacade hangs a transaction on; one per transaction."""


def now():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class Database:
    def __init__(self, conf):
        self.txn = enginefacade.transaction_context()
        options = {k: v for k, v in conf.database.items() if k not in OWN_OPTIONS}
        self.txn.configure(**options)
        self.retries = conf.database.decision_retries
        if options.get("connection", "").startswith("sqlite"):
            _serialize_sqlite(self.txn.writer.get_engine())

    # A transaction yields a Connection, not an ORM Session: the data functions below are Core,
    # and the Session's bookkeeping cost a tenth of a placement confirm. Callers name it session.
    def writer(self):
        return self.txn.writer.connection.using(DbContext())

    def reader(self):
        return self.txn.reader.connection.using(DbContext())

    @property
    def engine(self):
        return self.txn.writer.get_engine()

    def ping(self):
        with self.reader() as session:
            session.execute(sa.text("SELECT 1"))


def _serialize_sqlite(engine):
    """SQLite, the one-node default: each transaction takes the write lock when it begins.

    oslo.db begins with a plain (deferred) BEGIN: a transaction that read first then finds the
    lock taken fails at once with "database is locked". BEGIN IMMEDIATE waits for the lock
    instead (the busy timeout), so the threads and processes of one node take their turns.
    It replaces oslo.db's BEGIN listener (the same bookkeeping, another statement).
    """
    for listener in list(engine.dispatch.begin):
        if getattr(listener, "__name__", "") == "_sqlite_emit_begin":
            sa.event.remove(engine, "begin", listener)

    def begin_immediate(connection):
        if "in_transaction" not in connection.info:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            connection.info["in_transaction"] = True

    sa.event.listen(engine, "begin", begin_immediate)


def _row(row):
    return dict(row._mapping)


# -- plans ----------------------------------------------------------------------------------


def plan_row(session, ident):
    t = tables.plans
    row = session.execute(sa.select(t).where(sa.or_(t.c.id == ident, t.c.stack_id == ident))).first()
    if row is None:
        return None
    plan = _row(row)
    plan["resources"] = json.loads(plan["resources"])
    return plan


def list_plans(session):
    out = []
    for row in session.execute(sa.select(tables.plans).order_by(tables.plans.c.created_at)):
        plan = _row(row)
        plan["resources"] = json.loads(plan["resources"])
        out.append(plan)
    return out


def insert_plan(session, plan):
    stamp = now()
    values = dict(plan, resources=json.dumps(plan["resources"]), created_at=stamp, updated_at=stamp)
    session.execute(tables.plans.insert().values(**values))


def update_plan_resources(session, plan_id, resources):
    t = tables.plans
    session.execute(t.update().where(t.c.id == plan_id).values(resources=json.dumps(resources), updated_at=now()))


def delete_plan(session, plan_id):
    session.execute(tables.plans.delete().where(tables.plans.c.id == plan_id))


# -- placements -----------------------------------------------------------------------------


def placements(session, plan_id=None):
    t = tables.placements
    query = sa.select(t).order_by(t.c.created_at, t.c.orchestration_id)
    if plan_id is not None:
        query = query.where(t.c.plan_id == plan_id)
    return [_row(r) for r in session.execute(query)]


def placement_row(session, ident):
    t = tables.placements
    row = session.execute(sa.select(t).where(sa.or_(t.c.orchestration_id == ident, t.c.id == ident))).first()
    return _row(row) if row else None


def insert_placement(session, values):
    stamp = now()
    session.execute(tables.placements.insert().values(created_at=stamp, updated_at=stamp, **values))


def move_placement(session, orchestration_id, host, exclusive):
    t = tables.placements
    session.execute(
        t.update()
        .where(t.c.orchestration_id == orchestration_id)
        .values(host=host, exclusive=exclusive, updated_at=now())
    )


def confirm_placement(session, orchestration_id, resource_id):
    t = tables.placements
    session.execute(
        t.update().where(t.c.orchestration_id == orchestration_id).values(resource_id=resource_id, updated_at=now())
    )


def delete_placements(session, orchestration_ids):
    if orchestration_ids:
        t = tables.placements
        session.execute(t.delete().where(t.c.orchestration_id.in_(list(orchestration_ids))))


def count_plans(session):
    return session.execute(sa.select(sa.func.count()).select_from(tables.plans)).scalar()


# -- hosts (generations) --------------------------------------------------------------------


def ensure_hosts(session, racks):
    """Rows for hosts seen for the first time (generation 0); racks = {host: rack} as the cloud says."""
    t = tables.hosts
    known = {r.name: r.rack for r in session.execute(sa.select(t.c.name, t.c.rack).where(t.c.name.in_(list(racks))))}
    missing = sorted(set(racks) - set(known))
    if missing:
        session.execute(
            t.insert(), [{"name": n, "generation": 0, "rack": racks[n], "exclusive": None} for n in missing]
        )
    for name in sorted(n for n in known if known[n] != racks[n]):
        # Not a decision: the generation stays, so that no concurrent decision is disturbed.
        session.execute(t.update().where(t.c.name == name).values(rack=racks[name]))


def lock_hosts(session):
    """Wait for, then hold to the transaction's end, every host row's write lock (SELECT ... FOR UPDATE).

    Taken before anything is read, so what is read next is current. SQLite, which has no row
    locks, ignores it: its BEGIN IMMEDIATE already serializes writers.
    """
    session.execute(sa.select(tables.hosts.c.name).with_for_update()).all()


def host_rows(session):
    return {r.name: _row(r) for r in session.execute(sa.select(tables.hosts))}


def set_host(session, name, generation, exclusive, compare=True):
    """Write a host's new state; with compare, only if its generation is still `generation`."""
    t = tables.hosts
    query = t.update().where(t.c.name == name)
    if compare:
        query = query.where(t.c.generation == generation)
    return session.execute(query.values(generation=generation + 1, exclusive=exclusive)).rowcount


# -- groups ---------------------------------------------------------------------------------


def group_rows(session, ident=None):
    t = tables.groups
    query = sa.select(t).order_by(t.c.name)
    if ident is not None:
        query = query.where(sa.or_(t.c.id == ident, t.c.name == ident))
    out = []
    for row in session.execute(query):
        group = _row(row)
        m = tables.group_members
        group["members"] = [
            r.project_id
            for r in session.execute(
                sa.select(m.c.project_id).where(m.c.group_id == group["id"]).order_by(m.c.project_id)
            )
        ]
        out.append(group)
    return out


def insert_group(session, group):
    session.execute(tables.groups.insert().values(created_at=now(), **group))


def update_group(session, group_id, description):
    t = tables.groups
    session.execute(t.update().where(t.c.id == group_id).values(description=description))


def delete_group(session, group_id):
    session.execute(tables.group_members.delete().where(tables.group_members.c.group_id == group_id))
    session.execute(tables.groups.delete().where(tables.groups.c.id == group_id))


def add_members(session, group_id, projects, existing):
    new = [p for p in dict.fromkeys(projects) if p not in existing]
    if new:
        session.execute(tables.group_members.insert(), [{"group_id": group_id, "project_id": p} for p in new])


def remove_members(session, group_id, projects=None):
    m = tables.group_members
    query = m.delete().where(m.c.group_id == group_id)
    if projects is not None:
        query = query.where(m.c.project_id.in_(list(projects)))
    session.execute(query)
