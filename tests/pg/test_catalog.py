"""The live catalog is the truth: each small schema an operator has (issue "The live catalog is
the truth", cases 1–10) on the real server, with the behaviour the plan must give it.

Every test builds its tables in a schema of its own (`scratch`), so they never meet the
reference tables, and drops it afterwards.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from core import PruneSettings, errors, execute_pruner, operations, sweep
from core.health import plan_of
from core.preview import preview
from core.repository.pruner import Blocker, Child, Link, Pruner, SetNull
from core.repository.pruner.plan import describe
from core.restore import restore

NOW = datetime.now(UTC)


def ago(**kw: float) -> datetime:
    return datetime.now(UTC) - timedelta(**kw)


class Scratch:
    """A schema of its own: DDL and data as fixed SQL text (the tests' own constants)."""

    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self.engine, self.name = engine, name
        self.md = sa.MetaData(schema=name)

    async def sql(self, *statements: str, **params: Any) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(sa.text(f"SET LOCAL search_path = {self.name}, public"))
            for s in statements:
                await conn.execute(sa.text(s), params)

    async def rows(self, query: str) -> list[tuple[Any, ...]]:
        async with self.engine.connect() as conn:
            await conn.execute(sa.text(f"SET search_path = {self.name}, public"))
            out = [tuple(r) for r in await conn.execute(sa.text(query))]
            await conn.execute(sa.text("RESET search_path"))
            return out

    async def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        async with self.engine.connect() as conn:
            names = (await conn.execute(sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = :s ORDER BY 1"),
                {"s": self.name})).scalars().all()
            out = {}
            for n in names:
                t = sa.Table(n, sa.MetaData(), schema=self.name, autoload_with=None) \
                    if False else sa.table(n, schema=self.name)
                rows = (await conn.execute(sa.select(sa.text("*")).select_from(t))).all()
                out[n] = sorted(tuple(map(str, r)) for r in rows)
            return out

    def table(self, name: str, *cols: sa.Column[Any]) -> sa.Table:
        return sa.Table(name, self.md, *cols)


@pytest.fixture
async def scratch(engine: AsyncEngine) -> AsyncIterator[Scratch]:
    name = f"t_{uuid.uuid4().hex[:10]}"
    async with engine.begin() as conn:
        await conn.execute(sa.text(f"CREATE SCHEMA {name}"))
    try:
        yield Scratch(engine, name)
    finally:
        async with engine.begin() as conn:
            await conn.execute(sa.text(f"DROP SCHEMA {name} CASCADE"))


def bare(counts: dict[str, int]) -> dict[str, int]:
    """Per-table counts by bare table name (the catalog qualifies tables outside the search
    path with their schema)."""
    return {k.split(".")[-1]: v for k, v in counts.items()}


def col(name: str, type_: Any = sa.Integer, **kw: Any) -> sa.Column[Any]:
    return sa.Column(name, type_, **kw)


def ts(name: str = "finished_at", **kw: Any) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


JOBS_DDL = ("CREATE TABLE jobs (id int PRIMARY KEY, state text NOT NULL, "
            "finished_at timestamptz, parent_id int REFERENCES jobs ON DELETE {action})")


def jobs_pruner(s: Scratch, **kw: Any) -> Pruner:
    jobs = s.table("jobs", col("id", primary_key=True), col("state", sa.Text),
                   ts(), col("parent_id"))
    return Pruner(name="jobs", table=jobs, terminal=jobs.c.state == "done",
                  timestamp="finished_at", **kw)


# ------------------------------------------------------------------------------ 1 self-reference
@pytest.mark.parametrize("action", ["CASCADE", "NO ACTION"])
async def test_1_a_self_referencing_family_goes_together_and_a_live_descendant_keeps_it(
        scratch: Scratch, action: str) -> None:
    s = scratch
    await s.sql(JOBS_DDL.format(action=action))
    old = ago(days=10)
    await s.sql(
        # family 1: 1 -> 2 -> 3, all done and old: goes whole
        "INSERT INTO jobs VALUES (1, 'done', :old, NULL), (2, 'done', :old, 1), "
        "(3, 'done', :old, 2),"
        # family 2: 4 -> 5 (running): 4 is kept, and so is 5
        " (4, 'done', :old, NULL), (5, 'running', NULL, 4),"
        # family 3: 6 -> 7 (done but young): 6 is kept
        " (6, 'done', :old, NULL), (7, 'done', now(), 6)", old=old)
    p = jobs_pruner(s)
    plan = await plan_of(s.engine, p)
    assert plan.family is not None and plan.family.on_delete == action.lower()
    pv = await preview(s.engine, sweep(p, before=ago(days=1), limit=100))
    assert pv.candidates == 3 and pv.blocked == 2  # rows 4 and 6 have a live/young descendant
    r = await execute_pruner(s.engine, p, before=ago(days=1), limit=100)
    assert sorted(r.ids) == [1, 2, 3] and r.count == 3 and bare(r.deleted)["jobs"] == 3
    assert await s.rows("SELECT id FROM jobs ORDER BY id") == [(4,), (5,), (6,), (7,)]


@pytest.mark.parametrize("action", ["CASCADE", "NO ACTION"])
async def test_1_preview_counts_the_descendants_a_capped_prune_takes_with_a_family(
        scratch: Scratch, action: str) -> None:
    """Found by the random-schema property test: with limit 4 the prune takes the 4 oldest and
    the newer descendant of one of them (a family goes whole); preview counted only the 4."""
    s = scratch
    await s.sql(JOBS_DDL.format(action=action))
    await s.sql(
        "INSERT INTO jobs VALUES (9, 'done', :d36, NULL), (6, 'done', :d35, NULL),"
        " (5, 'done', :d32, NULL), (4, 'done', :d15, NULL), (10, 'done', :d14, 4)",
        d36=ago(days=36), d35=ago(days=35), d32=ago(days=32), d15=ago(days=15),
        d14=ago(days=14))
    p = jobs_pruner(s)
    req = sweep(p, before=ago(days=10), limit=4)
    pv = await preview(s.engine, req)
    rehearsal = await execute_pruner(s.engine, p, before=ago(days=10), limit=4, dry_run=True)
    r = await execute_pruner(s.engine, p, before=ago(days=10), limit=4)
    assert sorted(r.ids) == [4, 5, 6, 9, 10]
    assert bare(pv.cascade) == bare(rehearsal.deleted) == bare(r.deleted) == {"jobs": 5}

# ------------------------------------------------------------------------------ 2 composite FK
async def test_2_a_composite_child_matches_as_a_tuple_and_a_wrong_one_is_named(
        scratch: Scratch) -> None:
    s = scratch
    await s.sql(
        "CREATE TABLE jobs (tenant_id int, id int, state text, finished_at timestamptz, "
        "PRIMARY KEY (tenant_id, id))",
        "CREATE TABLE artifacts (id serial PRIMARY KEY, tenant_id int, job_id int, "
        "FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, id))",
        "INSERT INTO jobs VALUES (1, 3, 'done', now() - interval '9 days'), "
        "(3, 1, 'running', NULL), (3, 3, 'running', NULL)",
        "INSERT INTO artifacts (tenant_id, job_id) VALUES (1, 3), (1, 3), (3, 1), (3, 3)")
    jobs = s.table("jobs", col("tenant_id", primary_key=True), col("id", primary_key=True),
                   col("state", sa.Text), ts())
    artifacts = s.table("artifacts", col("id", primary_key=True), col("tenant_id"),
                        col("job_id"))
    p = Pruner(name="jobs", table=jobs, terminal=jobs.c.state == "done",
               timestamp="finished_at", children=(Child(artifacts, on=("tenant_id", "job_id")),))
    r = await execute_pruner(s.engine, p, before=ago(days=1), limit=10)
    assert r.ids == [(1, 3)] and bare(r.deleted) == {"jobs": 1, "artifacts": 2}
    assert await s.rows("SELECT tenant_id, job_id FROM artifacts ORDER BY 1, 2") == [
        (3, 1), (3, 3)]  # tenant 3's live jobs keep theirs
    wrong = Pruner(name="jobs", table=jobs, terminal=jobs.c.state == "done",
                   timestamp="finished_at", children=(Child(artifacts, on="job_id"),))
    with pytest.raises(errors.DefinitionError, match=r"Child\(artifacts, on=\(job_id\)\).*"
                       r"matches no foreign key.*\(tenant_id, job_id\)"):
        await execute_pruner(s.engine, wrong, before=ago(days=1), limit=10)


# ------------------------------------------------------------------------------ 3 undeclared
async def test_3_undeclared_references_block_cascade_or_set_null_as_declared(
        scratch: Scratch) -> None:
    s = scratch
    await s.sql(
        "CREATE TABLE orders (id int PRIMARY KEY, state text, finished_at timestamptz)",
        "CREATE TABLE lines (id serial PRIMARY KEY, order_id int REFERENCES orders "
        "ON DELETE CASCADE)",
        "CREATE TABLE notes (id serial PRIMARY KEY, order_id int REFERENCES orders "
        "ON DELETE SET NULL, live bool)",
        "CREATE TABLE invoices (id serial PRIMARY KEY, order_id int REFERENCES orders "
        "ON DELETE RESTRICT)",
        "INSERT INTO orders SELECT g, 'done', now() - interval '9 days' FROM "
        "generate_series(1, 6) g",
        "INSERT INTO lines (order_id) SELECT o FROM generate_series(1, 6) o, "
        "generate_series(1, 100) n",  # 600 cascading rows
        "INSERT INTO notes (order_id, live) VALUES (2, true)",
        "INSERT INTO invoices (order_id) VALUES (3)")
    orders = s.table("orders", col("id", primary_key=True), col("state", sa.Text), ts())
    notes = s.table("notes", col("id", primary_key=True), col("order_id"), col("live",
                                                                              sa.Boolean))
    p = Pruner(name="orders", table=orders, terminal=orders.c.state == "done",
               timestamp="finished_at")
    lines = describe(await plan_of(s.engine, p))
    assert any("lines (ON DELETE CASCADE, not declared" in x for x in lines), lines
    assert any("blocked when: a row of" in x and "SET NULL" in x for x in lines), lines
    pv = await preview(s.engine, sweep(p, before=ago(days=1), limit=100))
    assert pv.candidates == 4 and pv.blocked == 2
    assert sorted(pv.blocked_by.values()) == [1, 1]
    lines_table = next(k for k in pv.cascade if k.endswith("lines"))
    assert pv.cascade[lines_table] == 400  # the cascade is counted, not silent
    r = await operations.prune(s.engine, sweep(p, before=ago(days=1), limit=100),
                               operator="t")
    assert sorted(r.ids) == [1, 4, 5, 6] and r.deleted[lines_table] == 400
    assert await s.rows("SELECT order_id FROM notes") == [(2,)]  # the live row kept its value
    # declared, SET NULL is applied by the prune itself and counted
    allowed = Pruner(name="orders", table=orders, terminal=orders.c.state == "done",
                     timestamp="finished_at", set_null=(SetNull(notes, on="order_id"),))
    r = await execute_pruner(s.engine, allowed, before=ago(days=1), limit=100)
    assert r.ids == [2] and sum(r.updated.values()) == 1
    assert await s.rows("SELECT order_id FROM notes") == [(None,)]
    # RESTRICT keeps order 3 for good: a drain finishes with the rest instead of failing
    assert await s.rows("SELECT id FROM orders") == [(3,)]


async def test_3_a_refused_delete_keeps_postgresqls_detail(scratch: Scratch) -> None:
    from core import Purger, execute_purger

    s = scratch
    await s.sql("CREATE TABLE a (id int PRIMARY KEY)",
                "CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a)",
                "INSERT INTO a VALUES (7)", "INSERT INTO b VALUES (1, 7)")
    a = s.table("a", col("id", primary_key=True))
    with pytest.raises(errors.IntegrityFailure,
                       match=r"Key \(id\)=\(7\) is still referenced from table \"b\""):
        await execute_purger(s.engine, Purger(a, 7))


# ------------------------------------------------------------------------------ 4 not deleted
async def test_4_a_vetoing_trigger_rolls_everything_back_and_is_named(scratch: Scratch) -> None:
    s = scratch
    await s.sql(
        "CREATE TABLE orders (id int PRIMARY KEY, state text, finished_at timestamptz)",
        "CREATE TABLE items (id serial PRIMARY KEY, order_id int REFERENCES orders)",
        "INSERT INTO orders VALUES (1, 'done', now() - interval '9 days')",
        "INSERT INTO items (order_id) SELECT 1 FROM generate_series(1, 60)",
        "CREATE FUNCTION legal_hold() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN RETURN NULL; END$$",
        "CREATE TRIGGER legal_hold BEFORE DELETE ON orders FOR EACH ROW "
        "EXECUTE FUNCTION legal_hold()")
    orders = s.table("orders", col("id", primary_key=True), col("state", sa.Text), ts())
    items = s.table("items", col("id", primary_key=True), col("order_id"))
    p = Pruner(name="orders", table=orders, terminal=orders.c.state == "done",
               timestamp="finished_at", children=(Child(items, on="order_id"),))
    pv = await preview(s.engine, sweep(p, before=ago(days=1)))
    assert any("legal_hold" in w for w in pv.warnings)
    before = await s.snapshot()
    with pytest.raises(errors.PruneFailed, match="legal_hold"):
        await execute_pruner(s.engine, p, before=ago(days=1))
    assert await s.snapshot() == before  # the 60 items are still there


async def test_4_a_narrow_delete_policy_rolls_back_and_is_named(
        scratch: Scratch, pg_cluster: Any) -> None:
    s = scratch
    role = f"r_{s.name}"
    await s.sql(
        "CREATE TABLE orders (id int PRIMARY KEY, state text, finished_at timestamptz, "
        "region text)",
        "INSERT INTO orders VALUES (1, 'done', now() - interval '9 days', 'eu'), "
        "(2, 'done', now() - interval '9 days', 'us')",
        "ALTER TABLE orders ENABLE ROW LEVEL SECURITY",
        "CREATE POLICY see_all ON orders FOR SELECT USING (true)",
        "CREATE POLICY update_all ON orders FOR UPDATE USING (true)",
        "CREATE POLICY eu_only ON orders FOR DELETE USING (region = 'eu')",
        f"CREATE ROLE {role} LOGIN PASSWORD 'rls-test-password'",
        f"GRANT USAGE ON SCHEMA {s.name} TO {role}",
        f"GRANT SELECT, UPDATE, DELETE ON orders TO {role}")
    url = pg_cluster.url(s.engine.url.database).replace(
        f"pruner:{pg_cluster.password}", f"{role}:rls-test-password")
    from core import create_engine

    as_role = create_engine(url)
    try:
        orders = s.table("orders", col("id", primary_key=True), col("state", sa.Text), ts(),
                         col("region", sa.Text))
        p = Pruner(name="orders", table=orders, terminal=orders.c.state == "done",
                   timestamp="finished_at")
        pv = await preview(as_role, sweep(p, before=ago(days=1)))
        assert any("row-level security" in w and "eu_only" in w for w in pv.warnings)
        with pytest.raises(errors.PruneFailed, match="row-level security.*eu_only"):
            await execute_pruner(as_role, p, before=ago(days=1))
    finally:
        await as_role.dispose()
        await s.sql(f"DROP OWNED BY {role}", f"DROP ROLE {role}")
    assert len(await s.rows("SELECT id FROM orders")) == 2


# ------------------------------------------------------------------------------ 5 child turns live
async def test_5_a_child_that_turns_live_while_the_prune_runs_survives(db: AsyncEngine) -> None:
    """The prune pauses on an advisory lock in a BEFORE DELETE trigger on sessions; meanwhile
    a kernel of the session is set RUNNING and committed; the prune must not delete it."""
    from core import registry
    from tests.factories import add_session

    sid = await add_session(db, age_days=30)
    key = 424242
    async with db.begin() as conn:
        await conn.execute(sa.text(
            "CREATE FUNCTION pause_delete() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$BEGIN PERFORM pg_advisory_lock({key}); PERFORM pg_advisory_unlock({key}); "
            "RETURN OLD; END$$"))
        await conn.execute(sa.text("CREATE TRIGGER pause_delete BEFORE DELETE ON sessions "
                                   "FOR EACH ROW EXECUTE FUNCTION pause_delete()"))
    try:
        async with db.connect() as holder:
            await holder.execute(sa.text(f"SELECT pg_advisory_lock({key})"))
            task = asyncio.create_task(operations.prune(  # (a long lock_timeout: it pauses)
                db, sweep(registry.get("sessions"), before=NOW, limit=10), operator="race",
                retry=operations.Retry(attempts=3, base=0.01),
                settings=PruneSettings(lock_timeout_ms=60_000)))
            for _ in range(200):  # wait until the prune is parked on the lock
                waiting = (await holder.execute(sa.text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT "
                    "granted"))).scalar()
                if waiting:
                    break
                await asyncio.sleep(0.05)
            async with db.begin() as conn:  # the kernel turns live and commits
                turned = await conn.execute(sa.text(
                    "UPDATE kernels SET status = 'RUNNING', terminated_at = NULL WHERE id = "
                    "(SELECT id FROM kernels WHERE session_id = :s LIMIT 1)"), {"s": sid})
                assert turned.rowcount == 1
            await holder.execute(sa.text(f"SELECT pg_advisory_unlock({key})"))
            await holder.commit()
            r = await asyncio.wait_for(task, 60)
    finally:
        async with db.begin() as conn:
            await conn.execute(sa.text("DROP FUNCTION pause_delete() CASCADE"))
    assert r.count == 0  # the retry saw the live kernel: the session is blocked now
    async with db.connect() as conn:
        assert (await conn.execute(sa.text(
            "SELECT count(*) FROM kernels WHERE session_id = :s"), {"s": sid})).scalar() == 2
        statuses = [row[0] for row in await conn.execute(sa.text(
            "SELECT status FROM pruner.prune_runs ORDER BY id"))]
    assert statuses == ["retried", "succeeded"]


# ------------------------------------------------------------------------------ 6 time
async def test_6_a_naive_column_is_read_in_the_sessions_timezone(scratch: Scratch) -> None:
    s = scratch
    await s.sql(
        "CREATE TABLE jobs (id int PRIMARY KEY, state text, finished_at timestamp)",
        # New York wall-clock times, as a server in New York writes them
        "INSERT INTO jobs VALUES "
        "(1, 'done', (now() AT TIME ZONE 'America/New_York') - interval '10 minutes'), "
        "(2, 'done', (now() AT TIME ZONE 'America/New_York') - interval '3 hours')")
    jobs = s.table("jobs", col("id", primary_key=True), col("state", sa.Text),
                   sa.Column("finished_at", sa.DateTime()))
    p = Pruner(name="jobs", table=jobs, terminal=jobs.c.state == "done",
               timestamp="finished_at", timezone="America/New_York")
    r = await execute_pruner(s.engine, p, before=ago(hours=2), limit=10)
    assert r.ids == [2]  # the 10-minute-old row stays
    plan = await plan_of(s.engine, p)
    assert "America/New_York" in describe(plan)[0]


async def test_6_date_columns_and_infinity_never_crash(scratch: Scratch) -> None:
    s = scratch
    await s.sql(
        "CREATE TABLE buckets (id int PRIMARY KEY, period_end date NOT NULL)",
        "INSERT INTO buckets VALUES (1, current_date - 40), (2, current_date - 1), "
        "(3, current_date), (4, '-infinity'), (5, 'infinity')")
    b = s.table("buckets", col("id", primary_key=True), sa.Column("period_end", sa.Date))
    p = Pruner(name="buckets", table=b, terminal=sa.true(), timestamp="period_end")
    pv = await preview(s.engine, sweep(p, before=NOW, limit=10))
    assert pv.candidates == 3 and pv.minus_infinity == 1  # -infinity is the oldest of all
    assert pv.to_dict()["sample"][0]["period_end"] in ("-infinity", str(date.min))
    r = await execute_pruner(s.engine, p, before=NOW, limit=10)
    assert r.ids[0] == 4 and sorted(r.ids) == [1, 2, 4]  # +infinity and today stay
    await s.sql("CREATE TABLE logs (id int PRIMARY KEY, at timestamptz)",
                "INSERT INTO logs VALUES (1, '-infinity'), (2, now() - interval '2 days'), "
                "(3, 'infinity')")
    logs = s.table("logs", col("id", primary_key=True), sa.Column("at", sa.DateTime(
        timezone=True)))
    lp = Pruner(name="logs", table=logs, terminal=sa.true(), timestamp="at")
    pv = await preview(s.engine, sweep(lp, before=ago(days=1)))
    assert (pv.candidates, pv.minus_infinity, pv.oldest is not None) == (2, 1, True)
    assert sum(b.count for b in pv.histogram) == 1  # bins hold finite rows; -infinity apart


# ------------------------------------------------------------------------------ 7 partitioned
async def test_7_a_partitioned_table_keyed_with_its_partition_column(scratch: Scratch) -> None:
    s = scratch
    await s.sql(
        "CREATE TABLE events (id int, created_at timestamptz, kind text, "
        "PRIMARY KEY (id, created_at)) PARTITION BY RANGE (created_at)",
        "CREATE TABLE events_old PARTITION OF events FOR VALUES FROM ('-infinity') "
        "TO ('2026-01-01')",
        "CREATE TABLE events_new PARTITION OF events FOR VALUES FROM ('2026-01-01') "
        "TO ('infinity')",
        # id 1 was reused by a fresh row in the new partition
        "INSERT INTO events VALUES (1, '2025-06-01', 'x'), (2, '2025-07-01', 'x'), "
        "(1, now(), 'x')")
    events = s.table("events", col("id", primary_key=True),
                     sa.Column("created_at", sa.DateTime(timezone=True), primary_key=True),
                     col("kind", sa.Text))
    p = Pruner(name="events", table=events, terminal=sa.true(), timestamp="created_at")
    r = await execute_pruner(s.engine, p, before=ago(days=30), limit=10)
    assert sorted(i[0] for i in r.ids) == [1, 2] and len(r.ids) == 2
    assert await s.rows("SELECT id FROM events") == [(1,)]  # the fresh row with id 1 stays
    only_id = s.table("events2", col("id", primary_key=True),
                      sa.Column("created_at", sa.DateTime(timezone=True)))
    only_id.name = "events"
    wrong = Pruner(name="events", table=only_id, terminal=sa.true(), timestamp="created_at")
    with pytest.raises(errors.DefinitionError, match=r"not its primary key \(id, created_at"):
        await execute_pruner(s.engine, wrong, before=ago(days=30))


# ------------------------------------------------------------------------------ 8 polymorphic
async def test_8_polymorphic_rows_and_one_table_twice(scratch: Scratch) -> None:
    s = scratch
    await s.sql(
        "CREATE TABLE jobs (id int PRIMARY KEY, state text, finished_at timestamptz)",
        "CREATE TABLE comments (id serial PRIMARY KEY, target_type text, target_id int)",
        "CREATE TABLE links (id serial PRIMARY KEY, src int REFERENCES jobs, "
        "dst int REFERENCES jobs)",
        "INSERT INTO jobs VALUES (1, 'done', now() - interval '9 days'), "
        "(2, 'done', now() - interval '9 days'), (3, 'running', NULL)",
        "INSERT INTO comments (target_type, target_id) VALUES ('job', 1), ('job', 2), "
        "('invoice', 1), ('job', 3)",
        "INSERT INTO links (src, dst) VALUES (1, 2), (2, 1)")
    jobs = s.table("jobs", col("id", primary_key=True), col("state", sa.Text), ts())
    comments = s.table("comments", col("id", primary_key=True), col("target_type", sa.Text),
                       col("target_id"))
    links = s.table("links", col("id", primary_key=True), col("src"), col("dst"))
    p = Pruner(name="jobs", table=jobs, terminal=jobs.c.state == "done",
               timestamp="finished_at",
               children=(Child(links, on="src"), Child(links, on="dst")),
               links=(Link(comments, "target_id", "target_type", "job", rbac=False),))
    pv = await preview(s.engine, sweep(p, before=ago(days=1)))
    r = await execute_pruner(s.engine, p, before=ago(days=1))
    assert sorted(r.ids) == [1, 2]
    assert bare(r.deleted) == {"jobs": 2, "links": 2, "comments": 2}
    assert bare(pv.cascade) == bare(r.deleted)
    assert await s.rows("SELECT target_type, target_id FROM comments ORDER BY 1") == [
        ("invoice", 1), ("job", 3)]


# ------------------------------------------------------------------------------ 9 transactions
async def test_9_a_rehearsal_refuses_autocommit_and_a_callers_settings_survive(
        db: AsyncEngine) -> None:
    from core import registry
    from core.reference_schema import sessions
    from tests.factories import add_session, count

    await add_session(db, age_days=30)
    async with db.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        with pytest.raises(errors.InvalidArgument, match="AUTOCOMMIT"):
            await execute_pruner(conn, registry.get("sessions"), before=NOW, dry_run=True)
    assert await count(db, sessions) == 1
    async with db.connect() as conn:
        await conn.begin()
        await conn.execute(sa.text("SET LOCAL lock_timeout = '7s'"))
        await execute_pruner(conn, registry.get("sessions"), before=NOW)
        settings = (await conn.execute(sa.text(
            "SELECT current_setting('lock_timeout'), current_setting('jit'), "
            "current_setting('jit_above_cost'), current_setting('statement_timeout')"))).one()
        await conn.rollback()
    assert tuple(settings) == ("7s", "on", "100000", "0")


async def test_9_an_rbac_row_granted_while_the_prune_runs_goes_too(db: AsyncEngine) -> None:
    from core import registry
    from core.reference_schema import association_scopes_entities as rbac
    from tests.factories import add_session, count

    sid = await add_session(db, age_days=30)
    key = 434343
    async with db.begin() as conn:  # grant a row while the prune is inside its delete
        await conn.execute(sa.text(
            "CREATE FUNCTION late_grant() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$BEGIN PERFORM pg_advisory_lock({key}); PERFORM pg_advisory_unlock({key}); "
            "RETURN OLD; END$$"))
        await conn.execute(sa.text("CREATE TRIGGER late_grant BEFORE DELETE ON sessions "
                                   "FOR EACH ROW EXECUTE FUNCTION late_grant()"))
    try:
        async with db.connect() as holder:
            await holder.execute(sa.text(f"SELECT pg_advisory_lock({key})"))
            task = asyncio.create_task(execute_pruner(
                db, registry.get("sessions"), before=NOW,
                settings=PruneSettings(lock_timeout_ms=60_000)))
            for _ in range(200):
                if (await holder.execute(sa.text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND "
                        "NOT granted"))).scalar():
                    break
                await asyncio.sleep(0.05)
            async with db.begin() as conn:
                await conn.execute(sa.insert(rbac).values(
                    scope_type="user", scope_id="late", entity_type="session",
                    entity_id=str(sid)))
            await holder.execute(sa.text(f"SELECT pg_advisory_unlock({key})"))
            await holder.commit()
            r = await asyncio.wait_for(task, 60)
    finally:
        async with db.begin() as conn:
            await conn.execute(sa.text("DROP FUNCTION late_grant() CASCADE"))
    assert r.ids == [sid]
    assert await count(db, rbac, rbac.c.entity_id == str(sid)) == 0  # no orphan
    assert r.deleted["association_scopes_entities"] == 5  # 4 from the start + the late one


# ------------------------------------------------------------------------------ 10 silent zeroes
async def test_10_rows_that_can_never_qualify_and_a_condition_that_matches_nothing(
        scratch: Scratch) -> None:
    s = scratch
    await s.sql("CREATE TABLE jobs (id int PRIMARY KEY, state text, finished_at timestamptz)",
                "INSERT INTO jobs VALUES (1, 'DELETED', now() - interval '9 days'), "
                "(2, 'DELETED', NULL), (3, 'RUNNING', NULL)")
    jobs = s.table("jobs", col("id", primary_key=True), col("state", sa.Text), ts())
    upper = Pruner(name="jobs", table=jobs, terminal=jobs.c.state == "DELETED",
                   timestamp="finished_at")
    pv = await preview(s.engine, sweep(upper, before=ago(days=1)))
    assert (pv.candidates, pv.no_timestamp, pv.terminal_rows) == (1, 1, 2)
    lower = Pruner(name="jobs", table=jobs, terminal=jobs.c.state == "deleted",
                   timestamp="finished_at")
    pv = await preview(s.engine, sweep(lower, before=ago(days=1)))
    assert pv.terminal_rows == 0 and dict(pv.values["state"]) == {"DELETED": 2, "RUNNING": 1}


# ------------------------------------------------------------------------------ archive, restore
async def test_restore_puts_an_archived_run_back_exactly(scratch: Scratch) -> None:
    s = scratch
    await s.sql(
        "CREATE TABLE orders (id int PRIMARY KEY, state text, finished_at timestamptz, "
        "total numeric(10, 2), tags jsonb)",
        "CREATE TABLE lines (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_id int "
        "REFERENCES orders ON DELETE CASCADE, qty int, doubled int GENERATED ALWAYS AS "
        "(qty * 2) STORED)",
        "CREATE TABLE notes (id serial PRIMARY KEY, order_id int REFERENCES orders "
        "ON DELETE SET NULL)",
        "INSERT INTO orders VALUES (1, 'done', now() - interval '9 days', 12.50, "
        "'{\"a\": [1, 2]}'), (2, 'open', NULL, 1, NULL)",
        "INSERT INTO lines (order_id, qty) VALUES (1, 3), (1, 4), (2, 5)",
        "INSERT INTO notes (order_id) VALUES (1), (2)")
    orders = s.table("orders", col("id", primary_key=True), col("state", sa.Text), ts())
    notes = s.table("notes", col("id", primary_key=True), col("order_id"))
    p = Pruner(name="orders_r", table=orders, terminal=orders.c.state == "done",
               timestamp="finished_at", set_null=(SetNull(notes, on="order_id"),))
    before = await s.snapshot()
    r = await operations.prune(s.engine, sweep(p, before=ago(days=1)), archive=True,
                               operator="t")
    assert r.ids == [1] and sum(r.updated.values()) == 1
    assert await s.snapshot() != before
    back = await restore(s.engine, r.run_id, operator="t", reason="oops")
    assert await s.snapshot() == before  # every column, the identity and the nulled note
    assert back.restored_from == r.run_id and sum(back.reset.values()) == 1
    with pytest.raises(errors.InvalidArgument, match="restored already"):
        await restore(s.engine, r.run_id, operator="t")


async def test_restore_refuses_a_taken_key_and_changes_nothing(scratch: Scratch) -> None:
    s = scratch
    await s.sql("CREATE TABLE jobs (id int PRIMARY KEY, state text, finished_at timestamptz)",
                "INSERT INTO jobs VALUES (1, 'done', now() - interval '9 days')")
    jobs = s.table("jobs", col("id", primary_key=True), col("state", sa.Text), ts())
    p = Pruner(name="jobs_r", table=jobs, terminal=jobs.c.state == "done",
               timestamp="finished_at")
    r = await operations.prune(s.engine, sweep(p, before=ago(days=1)), archive=True,
                               operator="t")
    await s.sql("INSERT INTO jobs VALUES (1, 'new', NULL)")  # the key is taken again
    with pytest.raises(errors.IntegrityFailure, match=r"cannot restore run .*Key \(id\)=\(1\)"):
        await restore(s.engine, r.run_id, operator="t")
    assert await s.rows("SELECT id, state FROM jobs") == [(1, "new")]
    not_archived = await operations.prune(s.engine, sweep(p, before=NOW), operator="t")
    with pytest.raises(errors.InvalidArgument, match="not archived"):
        await restore(s.engine, not_archived.run_id, operator="t")


async def test_blockers_on_the_tree_and_declared_guards(scratch: Scratch) -> None:
    """A declaration can turn a table of the cascade tree into a guard."""
    s = scratch
    await s.sql(
        "CREATE TABLE jobs (id int PRIMARY KEY, state text, finished_at timestamptz)",
        "CREATE TABLE steps (id serial PRIMARY KEY, job_id int REFERENCES jobs "
        "ON DELETE CASCADE, running bool)",
        "INSERT INTO jobs VALUES (1, 'done', now() - interval '9 days'), "
        "(2, 'done', now() - interval '9 days')",
        "INSERT INTO steps (job_id, running) VALUES (1, false), (2, true)")
    jobs = s.table("jobs", col("id", primary_key=True), col("state", sa.Text), ts())
    steps = s.table("steps", col("id", primary_key=True), col("job_id"), col("running",
                                                                            sa.Boolean))
    p = Pruner(name="jobs", table=jobs, terminal=jobs.c.state == "done",
               timestamp="finished_at",
               blockers=(Blocker(steps, on="job_id", where=steps.c.running,
                                 reason="a step is still running"),))
    pv = await preview(s.engine, sweep(p, before=ago(days=1)))
    assert pv.blocked_by == {"a step is still running": 1}
    assert pv.blocked_sample[0]["reasons"] == ["a step is still running"]
    r = await execute_pruner(s.engine, p, before=ago(days=1))
    assert r.ids == [1]
