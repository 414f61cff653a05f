"""The Pruner contract on the real server."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core import PruneSettings, errors, execute_pruner, registry, sweep
from core.reference_schema import (
    association_scopes_entities as rbac,
)
from core.reference_schema import (
    audit_logs,
    kernels,
    routings,
    session_dependencies,
    sessions,
    vfolder_permissions,
    vfolders,
)
from core.repository.pruner.planner import current_plan
from core.repository.pruner.statements import candidates
from tests.factories import (
    add_dependency,
    add_logs,
    add_session,
    add_vfolder,
    count,
    days_ago,
    snapshot,
)

SESSIONS = registry.get("sessions")
VFOLDERS = registry.get("vfolders")
LOGS = registry.get("audit_logs")


def now() -> datetime:
    return datetime.now(UTC)


async def test_live_and_error_rows_are_never_touched(db):
    live = [await add_session(db, status=s, age_days=400) for s in
            ("RUNNING", "PENDING", "TERMINATING", "ERROR")]
    dead = await add_session(db, status="TERMINATED", age_days=400)
    r = await execute_pruner(db, SESSIONS, before=now(), limit=100)
    assert r.ids == [dead]
    assert await count(db, sessions) == len(live)
    assert await count(db, kernels) == 2 * len(live)


async def test_before_is_exclusive_and_null_timestamps_are_skipped(db):
    old = await add_session(db, age_days=10)
    await add_session(db, age_days=None)  # dead but never stamped
    async with db.connect() as conn:
        ts = (await conn.execute(sa.select(sessions.c.terminated_at)
                                 .where(sessions.c.id == old))).scalar_one()
    r = await execute_pruner(db, SESSIONS, before=ts, limit=10)
    assert r.count == 0  # terminated_at == before does not qualify
    r = await execute_pruner(db, SESSIONS, before=ts + timedelta(microseconds=1), limit=10)
    assert r.ids == [old]
    assert await count(db, sessions) == 1  # the NULL one stays


async def test_limit_takes_the_oldest_first_and_ids_come_oldest_first(db):
    ages = [5, 50, 20, 40, 30]
    ids = {a: await add_session(db, age_days=a) for a in ages}
    r = await execute_pruner(db, SESSIONS, before=now(), limit=3)
    assert r.ids == [ids[50], ids[40], ids[30]]
    assert r.count == 3 and r.limit == 3
    assert r.deleted == {"sessions": 3, "kernels": 6, "session_dependencies": 0,
                         "association_scopes_entities": 12}


async def test_children_and_cascades_go_with_the_parent(db):
    a = await add_session(db, age_days=30)
    b = await add_session(db, age_days=30)
    live = await add_session(db, status="RUNNING", age_days=None)
    await add_dependency(db, a, b)
    await add_dependency(db, live, a)  # a live session depending on a pruned one loses the edge
    r = await execute_pruner(db, SESSIONS, before=now(), limit=10)
    assert set(r.ids) == {a, b}
    assert r.deleted["kernels"] == 4
    assert r.deleted["session_dependencies"] == 2
    assert await count(db, session_dependencies) == 0
    assert await count(db, kernels, kernels.c.session_id == live) == 2


async def test_blockers_exclude_rows_instead_of_failing(db):
    routed = await add_session(db, age_days=90, routed=True)
    half_dead = await add_session(db, age_days=80, kernel_status="RUNNING")
    free = await add_session(db, age_days=70)
    r = await execute_pruner(db, SESSIONS, before=now(), limit=10)
    assert r.ids == [free]
    assert await count(db, sessions, sessions.c.id.in_([routed, half_dead])) == 2
    assert await count(db, routings) == 1

    carded = await add_vfolder(db, card=True)
    plain = await add_vfolder(db)
    trash = await add_vfolder(db, status="delete-pending")
    r = await execute_pruner(db, VFOLDERS, before=now(), limit=10)
    assert r.ids == [plain]
    assert r.deleted == {"vfolders": 1, "vfolder_permissions": 1,
                         "association_scopes_entities": 1}
    assert await count(db, vfolders, vfolders.c.id.in_([carded, trash])) == 2
    assert await count(db, vfolder_permissions) == 2


async def test_rbac_rows_go_in_both_directions_and_only_when_asked(db):
    sid = await add_session(db, age_days=31)
    kept = await add_session(db, age_days=30)
    r = await execute_pruner(db, SESSIONS, before=now(), limit=1, cascade_rbac=False)
    assert r.ids == [sid] and "association_scopes_entities" not in r.deleted
    assert await count(db, rbac, rbac.c.entity_id == str(sid)) == 2  # left, as asked

    r = await execute_pruner(db, SESSIONS, before=now(), limit=1)
    assert r.ids == [kept]
    assert r.deleted["association_scopes_entities"] == 4
    gone = sa.or_(rbac.c.entity_id == str(kept), rbac.c.scope_id == str(kept))
    assert await count(db, rbac, gone) == 0


async def test_the_late_pass_runs_only_when_another_transaction_committed_meanwhile(db):
    """The late pass (RBAC rows granted while the prune ran) probes every pruned id again; with
    nothing committed since the delete's snapshot it cannot find a row and is skipped. (That it
    runs, and deletes the late row, when a grant commits meanwhile: test_catalog's case 9.)"""
    from core.repository.pruner.deletes import others_committed

    sent: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        sent.append(statement)

    await add_session(db, age_days=30)
    sa.event.listen(db.sync_engine, "before_cursor_execute", seen)
    try:
        r = await execute_pruner(db, SESSIONS, before=now(), limit=10)
    finally:
        sa.event.remove(db.sync_engine, "before_cursor_execute", seen)
    assert r.count == 1 and r.deleted["association_scopes_entities"] == 4
    assert not [s for s in sent if "late_" in s]

    async with db.connect() as conn:  # the check itself: a commit elsewhere is seen
        snap = (await conn.execute(sa.text("SELECT CAST(pg_current_snapshot() AS text)"))
                ).scalar_one()
        assert (await conn.execute(others_committed(snap))).scalar() is False
        async with db.begin() as other:
            await other.execute(sa.text("SELECT pg_current_xact_id()"))
        assert (await conn.execute(others_committed(snap))).scalar() is True
        await conn.rollback()


async def test_rbac_rows_of_other_entity_types_with_the_same_id_are_left_alone(db):
    sid = await add_session(db, age_days=30)
    async with db.begin() as conn:
        await conn.execute(sa.insert(rbac), [
            dict(scope_type="user", scope_id="u2", entity_type="vfolder", entity_id=str(sid)),
            dict(scope_type="vfolder", scope_id=str(sid), entity_type="image", entity_id="x"),
        ])
    r = await execute_pruner(db, SESSIONS, before=now(), limit=10)
    assert r.ids == [sid]
    assert await count(db, rbac) == 2


async def test_a_log_pruner_prunes_by_age_only(db):
    await add_logs(db, [1, 10, 100, 200])
    r = await execute_pruner(db, LOGS, before=days_ago(50), limit=10)
    assert r.count == 2 and r.deleted == {"audit_logs": 2}
    assert await count(db, audit_logs) == 2
    assert all(isinstance(i, int) for i in r.ids)


async def test_selected_ids_are_rechecked_and_the_rest_reported_skipped(db):
    ok = await add_session(db, age_days=30)
    young = await add_session(db, age_days=1)
    live = await add_session(db, status="RUNNING", age_days=None)
    unknown = uuid.uuid4()
    r = await execute_pruner(db, SESSIONS, before=days_ago(7),
                             ids=[str(ok), young, live, unknown, str(ok)])
    assert r.ids == [ok]
    assert r.skipped == [young, live, unknown]
    assert await count(db, sessions) == 2


async def test_dry_run_reports_exact_counts_and_changes_nothing(db):
    for age in (10, 20, 30):
        await add_session(db, age_days=age)
    before = await snapshot(db)
    r = await execute_pruner(db, SESSIONS, before=now(), limit=2, dry_run=True)
    assert r.dry_run and r.count == 2 and r.deleted["kernels"] == 4
    assert await snapshot(db) == before


async def test_a_200k_row_call_works_on_asyncpg(db):
    n = 200_000
    async with db.begin() as conn:
        await conn.execute(sa.text(
            "INSERT INTO audit_logs (created_at, actor, action) "
            "SELECT now() - make_interval(secs => 86400 + g), 'u', 'a' "
            "FROM generate_series(1, :n) g"), {"n": n})
    r = await execute_pruner(db, LOGS, before=now(), limit=n,
                             settings=PruneSettings(max_limit=n))
    assert r.count == n and len(set(r.ids)) == n
    assert await count(db, audit_logs) == 0
    # selected ids far beyond asyncpg's 32,767 bind-parameter cap travel as one array
    await add_logs(db, [3, 4])
    r = await execute_pruner(db, LOGS, before=now(), ids=list(range(1, n + 3)) + [10**12],
                             settings=PruneSettings(max_limit=n + 3))
    assert r.count == 2


async def test_concurrent_prunes_return_disjoint_ids(db):
    made = {await add_session(db, age_days=10 + i) for i in range(60)}
    results = await asyncio.gather(*[
        execute_pruner(db, SESSIONS, before=now(), limit=25) for _ in range(3)])
    got = [set(r.ids) for r in results]
    assert sum(len(g) for g in got) == 60
    assert set().union(*got) == made
    assert not (got[0] & got[1]) and not (got[1] & got[2]) and not (got[0] & got[2])


async def test_a_row_locked_elsewhere_is_skipped_not_waited_for(db):
    locked = await add_session(db, age_days=50)
    other = await add_session(db, age_days=40)
    async with db.connect() as holder:
        await holder.begin()
        await holder.execute(sa.select(sessions).where(sessions.c.id == locked).with_for_update())
        r = await asyncio.wait_for(
            execute_pruner(db, SESSIONS, before=now(), limit=10,
                           settings=PruneSettings(lock_timeout_ms=60_000)), timeout=10)
        assert r.ids == [other]
        await holder.rollback()
    assert await count(db, sessions) == 1


async def test_a_failure_mid_transaction_leaves_every_table_as_it_was(db):
    for age in (10, 20):
        await add_session(db, age_days=age)
    await add_vfolder(db)
    async with db.begin() as conn:  # the parent delete fails after children and RBAC went
        await conn.execute(sa.text(
            "CREATE FUNCTION fail_delete() RETURNS trigger LANGUAGE plpgsql AS "
            "$$BEGIN RAISE EXCEPTION 'injected failure'; END$$"))
        await conn.execute(sa.text(
            "CREATE TRIGGER fail_delete BEFORE DELETE ON sessions "
            "FOR EACH ROW EXECUTE FUNCTION fail_delete()"))
    try:
        before = await snapshot(db)
        with pytest.raises(errors.PruneFailed, match="injected failure"):
            await execute_pruner(db, SESSIONS, before=now(), limit=10)
        assert await snapshot(db) == before
    finally:
        async with db.begin() as conn:
            await conn.execute(sa.text("DROP FUNCTION fail_delete() CASCADE"))


async def test_a_child_held_elsewhere_leaves_its_parent_busy_instead_of_waiting(db):
    sid = await add_session(db, age_days=50)
    free = await add_session(db, age_days=40)
    before = await snapshot(db)
    async with db.connect() as holder:
        await holder.begin()
        await holder.execute(sa.select(kernels).where(kernels.c.session_id == sid)
                             .with_for_update())
        r = await asyncio.wait_for(execute_pruner(db, SESSIONS, before=now(), limit=10),
                                   timeout=10)
        assert (r.ids, r.busy) == ([free], 1)  # deferred to a later batch, not failed
        await holder.rollback()
    after = await snapshot(db)
    assert {k: [row for row in rows if str(free) not in row] for k, rows in before.items()} \
        == {k: [row for row in rows if str(free) not in row] for k, rows in after.items()}


async def test_a_statement_timeout_is_a_typed_error(db):
    await add_logs(db, [10])
    async with db.begin() as conn:
        await conn.execute(sa.text(
            "CREATE FUNCTION slow_delete() RETURNS trigger LANGUAGE plpgsql AS "
            "$$BEGIN PERFORM pg_sleep(2); RETURN OLD; END$$"))
        await conn.execute(sa.text(
            "CREATE TRIGGER slow_delete BEFORE DELETE ON audit_logs "
            "FOR EACH ROW EXECUTE FUNCTION slow_delete()"))
    try:
        with pytest.raises(errors.StatementTimeout):
            await execute_pruner(db, LOGS, before=now(), limit=10,
                                 settings=PruneSettings(statement_timeout_ms=200))
        assert await count(db, audit_logs) == 1
    finally:
        async with db.begin() as conn:
            await conn.execute(sa.text("DROP FUNCTION slow_delete() CASCADE"))


async def test_the_prune_joins_a_callers_transaction(db):
    sid = await add_session(db, age_days=30)
    async with db.connect() as conn:
        await conn.begin()
        r = await execute_pruner(conn, SESSIONS, before=now(), limit=10)
        assert r.ids == [sid]
        assert (await conn.execute(sa.select(sa.func.count()).select_from(sessions))).scalar() == 0
        await conn.rollback()  # the caller decides: the prune goes with its transaction
    assert await count(db, sessions) == 1
    async with AsyncSession(db) as session:
        r = await execute_pruner(session, SESSIONS, before=now(), limit=10)
        assert r.ids == [sid]
        await session.commit()
    assert await count(db, sessions) == 0


async def test_a_failed_prune_in_a_callers_transaction_leaves_it_usable(db):
    await add_session(db, age_days=30)
    async with db.connect() as conn:
        await conn.begin()
        await conn.execute(sa.insert(audit_logs).values(actor="op", action="note"))
        with pytest.raises(errors.InvalidArgument):
            await execute_pruner(conn, SESSIONS, before=now(), limit=0)
        with pytest.raises(errors.StatementTimeout):  # fails inside the caller's transaction
            await execute_pruner(conn, SESSIONS, before=now(), limit=10,
                                 settings=PruneSettings(statement_timeout_ms=1))
        await conn.commit()
    assert await count(db, audit_logs) == 1
    assert await count(db, sessions) == 1


@pytest.mark.parametrize("kwargs, message", [
    (dict(before=datetime(2020, 1, 1)), "timezone-aware"),
    (dict(before=datetime.now(UTC) + timedelta(days=1)), "future"),
    (dict(before="2020-01-01"), "datetime"),
    (dict(limit=0), "between 1 and"),
    (dict(limit=-5), "between 1 and"),
    (dict(limit=100_001), "between 1 and"),
    (dict(limit=True), "whole number"),
    (dict(limit="10"), "whole number"),
    (dict(limit=2.5), "whole number"),
    (dict(cascade_rbac="no"), "true or false"),
    (dict(ids=["not-a-uuid"]), "not a valid sessions id"),
    (dict(ids="abc"), "not one string"),
    (dict(ids=[]), "no ids"),
    (dict(ids=[1.5]), "not a valid"),
])
async def test_bad_arguments_give_clear_errors_and_change_nothing(db, kwargs, message):
    await add_session(db, age_days=30)
    args = dict(before=now(), limit=10) | kwargs
    with pytest.raises(errors.InvalidArgument, match=message):
        await execute_pruner(db, SESSIONS, **args)
    assert await count(db, sessions) == 1


def test_unknown_entity_lists_the_known_ones():
    with pytest.raises(errors.UnknownEntity, match="known: audit_logs, .*sessions, .*vfolders"):
        registry.get("users; DROP TABLE sessions")


def test_declarations_are_checked():
    from core import Pruner

    md = sa.MetaData()
    keyless = sa.Table("c", md, sa.Column("a", sa.Integer),
                       sa.Column("ts", sa.DateTime(timezone=True)))
    with pytest.raises(errors.DefinitionError, match="declare the primary key"):
        Pruner(name="c", table=keyless, terminal=sa.true(), timestamp="ts")
    with pytest.raises(errors.DefinitionError, match="not a timestamp or date column"):
        Pruner(name="s", table=sessions, terminal=sa.true(), timestamp="status")
    with pytest.raises(errors.DefinitionError, match="SQL condition"):
        Pruner(name="s", table=sessions, terminal="1=1", timestamp="terminated_at")  # type: ignore[arg-type]
    with pytest.raises(errors.DefinitionError, match="already registered"):
        registry.register(Pruner(name="sessions", table=sessions, terminal=sa.true(),
                                 timestamp="terminated_at"))


def test_a_pruner_cannot_be_widened():
    with pytest.raises(AttributeError):
        SESSIONS.terminal = sa.true()  # type: ignore[misc]


async def test_terminal_constants_are_sql_literals_so_partial_indexes_always_match(db):
    from sqlalchemy.dialects import postgresql

    async with db.connect() as conn:
        plan = await current_plan(conn, SESSIONS)
    q = candidates(plan, sweep(SESSIONS, before=now(), limit=10)).compile(
        dialect=postgresql.asyncpg.dialect(), compile_kwargs={"render_postcompile": True})
    sql = str(q)
    assert "sessions.status IN ('TERMINATED', 'CANCELLED')" in sql
    assert "kernels.status NOT IN ('TERMINATED', 'CANCELLED')" in sql
    assert set(q.params) == {"before", "limit"}  # only the caller's values are parameters
