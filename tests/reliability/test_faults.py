"""Faults: the pruning backend dies, the server restarts, locks and timeouts bite, a drain breaks.

Fault points are server-side hooks created here: a trigger on the table being deleted from at that
point waits on an advisory lock that the test holds, so the test knows from `pg_stat_activity`
exactly where the prune is before it kills the backend (or stops the server). Points:

    kernels / session_dependencies / rbac / sessions / vfolder_permissions / vfolders /
    audit_logs   BEFORE DELETE of the n-th row of that table (mid-statement)
    statement    AFTER the whole delete statement (everything deleted, nothing committed)
    journal      while the journal row's ids are written (ops.prune only)
    commit       a deferred constraint trigger: inside COMMIT, before it is durable

Every trial compares every reference table row by row with its state before the prune.
Kill trials: 24 by default, 120 under PRUNER_SOAK=full; restart trials: 2 / 20.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core import PruneSettings, errors, execute_pruner, registry, sweep
from core.demo.cluster import LocalCluster
from core.demo.seed import create_schema
from core.drain import drain
from core.operations import Retry
from tests.reliability.helpers import (
    REFERENCE_TABLES,
    assert_clean_failure,
    assert_operator_message,
    cli,
    engine_for,
    full_snapshot,
    operations_module,
    seed_sessions,
    size,
)

pytestmark = pytest.mark.soak

KILL_TRIALS = size(24, 120)
RESTART_TRIALS = size(2, 20)
DRAIN_TRIALS = size(3, 12)
HOOK_LOCK = 1717662060  # advisory lock key the hooks wait on while the test holds it
VICTIM = "fault-victim"

HOOK_SQL = [
    "CREATE TABLE IF NOT EXISTS fault_hook (point text NOT NULL, nth int NOT NULL)",
    "CREATE SEQUENCE IF NOT EXISTS fault_seq",
    """
    CREATE OR REPLACE FUNCTION fault_wait() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE h fault_hook;
    BEGIN
      SELECT * INTO h FROM fault_hook LIMIT 1;
      IF h.point = TG_ARGV[0] THEN
        IF nextval('fault_seq') = h.nth THEN
          PERFORM pg_advisory_xact_lock_shared(1717662060);  -- parks while the test holds it
        END IF;
      END IF;
      IF TG_OP = 'INSERT' THEN RETURN NEW; END IF;
      RETURN OLD;
    END $$
    """,
]
# (trigger name, table, timing, hook point)
HOOKS = [
    ("fh_kernels", "kernels", "BEFORE DELETE", "kernels"),
    ("fh_deps", "session_dependencies", "BEFORE DELETE", "session_dependencies"),
    ("fh_rbac", "association_scopes_entities", "BEFORE DELETE", "rbac"),
    ("fh_sessions", "sessions", "BEFORE DELETE", "sessions"),
    ("fh_vperm", "vfolder_permissions", "BEFORE DELETE", "vfolder_permissions"),
    ("fh_vfolders", "vfolders", "BEFORE DELETE", "vfolders"),
    ("fh_logs", "audit_logs", "BEFORE DELETE", "audit_logs"),
    ("fh_journal", "pruner.prune_run_ids", "BEFORE INSERT", "journal"),
]
STATEMENT_HOOKS = [("fh_stmt_" + t, t) for t in ("sessions", "vfolders", "audit_logs")]
COMMIT_HOOKS = [("fh_commit_" + t, t) for t in ("sessions", "vfolders", "audit_logs")]

# Which hook points a prune of each entity passes, and the table whose row count bounds `nth`.
POINTS: dict[str, dict[str, str | None]] = {
    "sessions": {"kernels": "kernels", "session_dependencies": "session_dependencies",
                 "rbac": "association_scopes_entities", "sessions": "sessions",
                 "statement": None, "journal": None, "commit": "sessions"},
    "vfolders": {"vfolder_permissions": "vfolder_permissions",
                 "rbac": "association_scopes_entities", "vfolders": "vfolders",
                 "statement": None, "journal": None, "commit": "vfolders"},
    "audit_logs": {"audit_logs": "audit_logs", "statement": None, "journal": None,
                   "commit": "audit_logs"},
}

SEED_OTHERS = [
    """
    INSERT INTO vfolders (name, status, "user", status_changed)
    SELECT 'vf-' || g,
           (ARRAY['ready', 'delete-complete', 'delete-error', 'delete-pending'])[1 + g % 4],
           gen_random_uuid(), now() - make_interval(days => 2 + g)
    FROM generate_series(1, 24) AS g
    """,
    """
    INSERT INTO vfolder_permissions (vfolder, "user")
    SELECT v.id, gen_random_uuid() FROM vfolders v CROSS JOIN generate_series(1, 2)
    """,
    "INSERT INTO model_cards (name, vfolder) SELECT 'card', id FROM vfolders "
    "WHERE status = 'delete-complete' ORDER BY name LIMIT 2",
    """
    INSERT INTO association_scopes_entities (scope_type, scope_id, entity_type, entity_id)
    SELECT 'user', v."user"::text, 'vfolder', v.id::text FROM vfolders v
    """,
    """
    INSERT INTO audit_logs (created_at, actor, action)
    SELECT now() - make_interval(days => g), 'u', 'login' FROM generate_series(1, 40) AS g
    """,
]


# ------------------------------------------------------------------------------ set-up
async def install_hooks(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for stmt in HOOK_SQL:
            await conn.execute(sa.text(stmt))
        for name, table, timing, point in HOOKS:
            await conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
            await conn.execute(sa.text(
                f"CREATE TRIGGER {name} {timing} ON {table} FOR EACH ROW "
                f"EXECUTE FUNCTION fault_wait('{point}')"))
        for name, table in STATEMENT_HOOKS:
            await conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
            await conn.execute(sa.text(
                f"CREATE TRIGGER {name} AFTER DELETE ON {table} FOR EACH STATEMENT "
                "EXECUTE FUNCTION fault_wait('statement')"))
        for name, table in COMMIT_HOOKS:
            await conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
            await conn.execute(sa.text(
                f"CREATE CONSTRAINT TRIGGER {name} AFTER DELETE ON {table} "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fault_wait('commit')"))


async def reset_data(engine: AsyncEngine, seed: int) -> None:
    """Fresh, small data set (TRUNCATE fires no delete hooks) and an empty journal."""
    rng = random.Random(seed)
    async with engine.begin() as conn:
        await conn.execute(sa.text(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in REFERENCE_TABLES)
            + ", pruner.prune_runs, pruner.prune_run_ids, pruner.prune_archive_rows, "
            "pruner.prune_parked, pruner.prune_drains, fault_hook "
            "RESTART IDENTITY CASCADE"))
        await seed_sessions(conn, dead=rng.randint(10, 40), live=rng.randint(2, 10), blocked=2,
                            stuck=2, deps=rng.randint(2, 15), seed=rng.random())
        for stmt in SEED_OTHERS:
            await conn.execute(sa.text(stmt))


async def journal_rows(engine: AsyncEngine) -> list[tuple[str, int, str | None]]:
    async with engine.connect() as conn:
        rows = await conn.execute(sa.text(
            "SELECT status, count, error FROM pruner.prune_runs ORDER BY id"))
        return [tuple(r) for r in rows]


async def snapshot_of(engine: AsyncEngine) -> dict[str, list[str]]:
    async with engine.connect() as conn:
        return await full_snapshot(conn)


@pytest.fixture(scope="module")
def faults_url(pg_cluster: LocalCluster) -> str:
    """A database of its own on the shared cluster: the hooks never reach other tests' tables."""
    return pg_cluster.create_database("pruner_faults")


@pytest.fixture(scope="module")
async def faults_db(faults_url: str) -> AsyncIterator[AsyncEngine]:
    eng = engine_for(faults_url, app="fault-setup")
    await create_schema(eng)
    await install_hooks(eng)
    yield eng
    await eng.dispose()


@pytest.fixture(scope="module")
def restart_cluster() -> Iterator[LocalCluster]:
    """A cluster of its own: these tests stop the server with `immediate`."""
    base = Path(tempfile.mkdtemp(prefix="pruner-restart-"))
    os.chmod(base, 0o755)
    cluster = LocalCluster(base / "pg")
    cluster.start()
    yield cluster
    cluster.destroy()


# ------------------------------------------------------------------------------ the killer
async def wait_parked(killer: AsyncConnection, task: asyncio.Task[Any],
                      seconds: float = 30, app: str | None = VICTIM) -> int:
    """The pid of the victim's backend once it waits on the hook's advisory lock (`app` None:
    any other backend of this database, e.g. a CLI process)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        pid = (await killer.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND (application_name = :app OR :app IS NULL) "
            "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"), {"app": app}
        )).scalar()
        if pid is not None:
            return int(pid)
        if task.done():
            exc = task.exception()
            raise AssertionError(f"the prune ended without reaching the hook: {exc!r}")
        await asyncio.sleep(0.01)
    raise AssertionError("the prune never reached the hook")


async def arm(killer: AsyncConnection, point: str, nth: int) -> None:
    await killer.execute(sa.text("DELETE FROM fault_hook"))
    await killer.execute(sa.text("SELECT setval('fault_seq', 1, false)"))
    await killer.execute(sa.text("INSERT INTO fault_hook VALUES (:p, :n)"), {"p": point, "n": nth})
    await killer.execute(sa.select(sa.func.pg_advisory_lock(HOOK_LOCK)))


async def disarm(killer: AsyncConnection) -> None:
    await killer.execute(sa.text("DELETE FROM fault_hook"))
    await killer.execute(sa.select(sa.func.pg_advisory_unlock_all()))


def victim_call(url: str, entity: str, limit: int, use_ops: bool, **kw: Any,
                ) -> tuple[AsyncEngine, Callable[[], Awaitable[Any]]]:
    eng = engine_for(url, app=VICTIM)
    pruner = registry.get(entity)
    ops = operations_module()

    async def call() -> Any:
        if use_ops:
            assert ops is not None
            return await ops.prune(eng, sweep(pruner, before=datetime.now(UTC), limit=limit),
                                   operator="fault-test", reason="kill trial", **kw)
        return await execute_pruner(eng, pruner, before=datetime.now(UTC), limit=limit, **kw)

    return eng, call


async def plan_trial(engine: AsyncEngine, rng: random.Random, entity: str, use_ops: bool,
                     ) -> tuple[str, int, int]:
    """A hook point the prune passes, the n-th row to park at, and the limit: the counts come
    from a rehearsal (same statement, rolled back; the hooks are disarmed)."""
    limit = rng.randint(1, 60)
    pruner = registry.get(entity)
    dry = await execute_pruner(engine, pruner, before=datetime.now(UTC), limit=limit,
                               dry_run=True)
    points = [p for p, table in POINTS[entity].items()
              if (table is None or dry.deleted.get(table, 0) > 0) and (use_ops or p != "journal")]
    if dry.count == 0:
        points = ["statement"]  # an empty prune still runs its statement
    point = rng.choice(points)
    table = POINTS[entity][point]
    nth = rng.randint(1, dry.deleted[table]) if table else 1
    return point, nth, limit


# ------------------------------------------------------------------------------ kill trials
async def test_killing_the_backend_anywhere_in_the_prune_changes_nothing(
    faults_db: AsyncEngine, faults_url: str
) -> None:
    ops = operations_module()
    rng = random.Random(int(os.environ.get("PRUNER_FAULT_SEED", "20240601")))
    seen: dict[str, int] = {}
    kinds: dict[str, str] = {}
    partial = 0
    for trial in range(KILL_TRIALS):
        await reset_data(faults_db, seed=trial)
        entity = rng.choices(list(POINTS), weights=[3, 1, 1])[0]
        use_ops = ops is not None and trial % 3 != 2  # two in three through the journal
        point, nth, limit = await plan_trial(faults_db, rng, entity, use_ops)
        before = await snapshot_of(faults_db)
        # one attempt: this test is about the attempt itself (the retry has its own test)
        eng, call = victim_call(faults_url, entity, limit, use_ops,
                                **({"retry": Retry(attempts=1)} if use_ops else {}))
        killer_eng = engine_for(faults_url, app="fault-killer")
        try:
            async with killer_eng.connect() as killer:
                await killer.execution_options(isolation_level="AUTOCOMMIT")
                await arm(killer, point, nth)
                task = asyncio.create_task(call())
                pid = await wait_parked(killer, task)
                assert (await killer.execute(
                    sa.select(sa.func.pg_terminate_backend(pid)))).scalar() is True
                await disarm(killer)
            with pytest.raises((errors.DatabaseUnavailable, errors.PruneFailed)) as info:
                await asyncio.wait_for(task, 60)
        finally:
            await eng.dispose()
            await killer_eng.dispose()
        assert_operator_message(info.value)
        kinds.setdefault(type(info.value).__name__, str(info.value))
        after = await snapshot_of(faults_db)
        partial += after != before
        assert after == before, f"trial {trial}: {entity} killed at {point}#{nth} changed rows"
        journal = await journal_rows(faults_db)  # the failure is recorded, never a success
        assert journal == ([("failed", 0, str(info.value))] if use_ops else []), journal
        seen[point] = seen.get(point, 0) + 1
    print(f"\nkill trials: {KILL_TRIALS}, partial prunes: {partial}, points: {seen}, "
          f"errors: {kinds}")
    assert len(seen) >= min(5, KILL_TRIALS // 4)  # the trials really spread over the points


async def test_the_cli_killed_mid_prune_or_drain_exits_1_in_one_line_and_loses_nothing(
    faults_db: AsyncEngine, faults_url: str
) -> None:
    """The operator's view of a kill: `pruner prune` / `pruner drain` exit 1 with one line on
    stderr, nothing of the killed transaction stays, the journal shows the failure."""
    if operations_module() is None:
        pytest.skip("FOLLOW-UP: needs core.cli")
    rng = random.Random(17)
    for trial in range(size(4, 16)):
        await reset_data(faults_db, seed=4_000 + trial)
        drain = trial % 2 == 1
        point, nth, limit = await plan_trial(faults_db, rng, "sessions", True)
        argv = (["drain", "sessions", "--older-than", "1h", "--batch-size", str(limit), "--yes"]
                if drain else
                ["prune", "sessions", "--older-than", "1h", "--limit", str(limit), "--yes"])
        argv += ["--retries", "0"]  # the killed attempt is the last one
        before = await snapshot_of(faults_db)
        killer_eng = engine_for(faults_url, app="fault-killer")
        try:
            async with killer_eng.connect() as killer:
                await killer.execution_options(isolation_level="AUTOCOMMIT")
                await arm(killer, point, nth)
                task = asyncio.create_task(asyncio.to_thread(cli, *argv, url=faults_url))
                pid = await wait_parked(killer, task, app=None)
                await killer.execute(sa.select(sa.func.pg_terminate_backend(pid)))
                await disarm(killer)
            proc = await asyncio.wait_for(task, 120)
        finally:
            await killer_eng.dispose()
        assert_clean_failure(proc, 1, "unreachable")
        if drain:  # the first batch is the one killed: the summary says the drain stopped
            assert "stopped: failed" in proc.stdout and "Traceback" not in proc.stdout
        assert await snapshot_of(faults_db) == before, f"cli {argv[0]} killed at {point}#{nth}"
        assert [s for s, _, _ in await journal_rows(faults_db)] == ["failed"]
    print(f"\ncli kill trials: {size(4, 16)}, all exit 1 in one line, changed: 0")


# ------------------------------------------------------------------------------ restarts
async def test_an_immediate_server_restart_mid_prune_changes_nothing(
    restart_cluster: LocalCluster,
) -> None:
    ops = operations_module()
    url = restart_cluster.create_database("pruner_restart")
    setup = engine_for(url, app="fault-setup")
    await create_schema(setup)
    await install_hooks(setup)
    await setup.dispose()
    rng = random.Random(7)
    partial = 0
    for trial in range(RESTART_TRIALS):
        url = restart_cluster.url("pruner_restart")  # the port may move on restart
        setup = engine_for(url, app="fault-setup")
        use_ops = ops is not None and trial % 2 == 0
        try:
            await reset_data(setup, seed=100 + trial)
            point, nth, limit = await plan_trial(setup, rng, "sessions", use_ops)
            before = await snapshot_of(setup)
        finally:
            await setup.dispose()
        eng, call = victim_call(url, "sessions", limit, use_ops)
        killer_eng = engine_for(url, app="fault-killer")
        killer = await killer_eng.connect()
        await killer.execution_options(isolation_level="AUTOCOMMIT")
        await arm(killer, point, nth)
        task = asyncio.create_task(call())
        try:
            await wait_parked(killer, task)
            await asyncio.to_thread(restart_cluster.stop, "immediate")
            [outcome] = await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 60)
        finally:
            task.cancel()
            await asyncio.to_thread(restart_cluster.start)
            with contextlib.suppress(Exception):  # it died with the server
                await killer.close()
            await killer_eng.dispose()
            await eng.dispose()
        assert isinstance(outcome, errors.DatabaseUnavailable), repr(outcome)
        assert_operator_message(outcome)
        print(f"\nrestart at {point}#{nth}: {outcome}")
        check = engine_for(restart_cluster.url("pruner_restart"), app="fault-check")
        try:
            async with check.begin() as conn:
                await conn.execute(sa.text("DELETE FROM fault_hook"))
            after = await snapshot_of(check)
            journal = await journal_rows(check)
            # and the server is usable again: the same prune now goes through
            pruner = registry.get("sessions")
            redo = await execute_pruner(check, pruner, before=datetime.now(UTC), limit=limit)
        finally:
            await check.dispose()
        partial += after != before
        assert after == before, f"restart at {point}#{nth} left a partial prune"
        assert all(status == "failed" for status, _, _ in journal), journal
        assert redo.count > 0 or point == "statement"
    print(f"\nrestart trials: {RESTART_TRIALS}, partial prunes: {partial}")


# ------------------------------------------------------------------------------ held rows
LOCKED_ROWS = {
    # what another transaction holds FOR UPDATE while a prune needs to delete it, and which
    # parents that makes busy ("sid": the session the row belongs to; an edge belongs to both)
    "kernel": ("sessions", "SELECT 1 FROM kernels WHERE session_id = :sid FOR UPDATE",
               {"sid"}),
    "dependency edge": ("sessions", "SELECT 1 FROM session_dependencies "
                                    "WHERE session_id = :sid OR depends_on = :sid FOR UPDATE",
                        {"sid", "older"}),
    "rbac row (entity)": ("sessions", "SELECT 1 FROM association_scopes_entities "
                                      "WHERE entity_id = :sidt FOR UPDATE", {"sid"}),
    "rbac row (scope)": ("sessions", "SELECT 1 FROM association_scopes_entities "
                                     "WHERE scope_id = :sidt FOR UPDATE", {"sid"}),
    "vfolder permission": ("vfolders", "SELECT 1 FROM vfolder_permissions "
                                       "WHERE vfolder = :vid FOR UPDATE", {"vid"}),
}


@pytest.mark.parametrize("what", list(LOCKED_ROWS))
async def test_a_child_row_held_elsewhere_leaves_its_parent_busy_and_the_rest_pruned(
    db: AsyncEngine, what: str
) -> None:
    """Nothing waits for the held row (the prune has a 60 s budget and must take well under
    one); its parent stays whole, counted as busy in the result and the journal."""
    from tests.factories import add_dependency, add_session, add_vfolder, snapshot

    entity, lock_sql, busy = LOCKED_ROWS[what]
    older = await add_session(db, age_days=40)
    sid = await add_session(db, age_days=30)
    await add_dependency(db, older, sid)
    vid = await add_vfolder(db)
    names = {"older": older, "sid": sid, "vid": vid}
    parents = {"sessions": {"older", "sid"}, "vfolders": {"vid"}}[entity]
    before = await snapshot(db)
    ops = operations_module()
    assert ops is not None
    async with db.connect() as holder:
        await holder.begin()
        held = await holder.execute(sa.text(lock_sql), {"sid": sid, "sidt": str(sid), "vid": vid})
        assert held.first() is not None
        req = sweep(registry.get(entity), before=datetime.now(UTC), limit=10)
        started = asyncio.get_running_loop().time()
        r = await asyncio.wait_for(ops.prune(db, req, operator="t", reason="held"), timeout=60)
        took = asyncio.get_running_loop().time() - started
        await holder.rollback()
    assert took < 5, f"the prune waited {took:.1f} s for a held row"
    assert r.busy == len(busy) and set(r.ids) == {names[n] for n in parents - busy}
    after = await snapshot(db)
    gone = [str(i) for i in r.ids]
    for n in busy:  # every row of a busy parent (not shared with a pruned one) is as it was
        key = str(names[n])

        def of(snap: dict[str, list[Any]], key: str = key) -> dict[str, list[Any]]:
            return {t: [x for x in rows if key in x and not any(g in x for g in gone)]
                    for t, rows in snap.items()}
        assert of(after) == of(before), n
    async with db.connect() as conn:
        journal = (await conn.execute(sa.text(
            "SELECT status, count, busy FROM pruner.prune_runs ORDER BY id"))).all()
    assert [tuple(j) for j in journal] == [("succeeded", len(parents - busy), len(busy))]


async def test_a_statement_timeout_anywhere_in_the_prune_is_typed_and_changes_nothing(
    faults_db: AsyncEngine, faults_url: str
) -> None:
    """The prune parks at a hook (a lock wait no lock_timeout catches: 60 s) until the
    statement_timeout cancels it: StatementTimeout, nothing changed, a failed run journaled."""
    ops = operations_module()
    rng = random.Random(11)
    seen = set()
    for trial in range(size(6, 24)):
        await reset_data(faults_db, seed=1_000 + trial)
        use_ops = ops is not None and trial % 2 == 0
        point, nth, limit = await plan_trial(faults_db, rng, "sessions", use_ops)
        if point == "commit":  # PostgreSQL stops the statement timer before COMMIT's work: below
            point, nth = "sessions", 1
        before = await snapshot_of(faults_db)
        settings = PruneSettings(lock_timeout_ms=60_000, statement_timeout_ms=300)
        eng, call = victim_call(faults_url, "sessions", limit, use_ops, settings=settings)
        killer_eng = engine_for(faults_url, app="fault-killer")
        try:
            async with killer_eng.connect() as killer:
                await killer.execution_options(isolation_level="AUTOCOMMIT")
                await arm(killer, point, nth)
                try:
                    with pytest.raises(errors.StatementTimeout) as info:
                        await asyncio.wait_for(call(), 60)
                finally:
                    await disarm(killer)
        finally:
            await eng.dispose()
            await killer_eng.dispose()
        assert_operator_message(info.value, "statement timeout")
        assert await snapshot_of(faults_db) == before, f"timeout at {point}#{nth}"
        journal = await journal_rows(faults_db)
        assert [s for s, _, _ in journal] == (["failed"] if use_ops else [])
        seen.add(point)
    print(f"\nstatement-timeout trials: {size(6, 24)}, changed: 0, points: {sorted(seen)}")
    assert len(seen) >= 3


async def test_a_lock_wait_inside_commit_is_bounded_by_lock_timeout(
    faults_db: AsyncEngine, faults_url: str
) -> None:
    """Work done inside COMMIT (deferred triggers and constraints) runs after PostgreSQL has
    stopped the statement timer, so statement_timeout cannot bound it; lock_timeout does."""
    ops = operations_module()
    for use_ops in ([True, False] if ops is not None else [False]):
        await reset_data(faults_db, seed=3_000)
        before = await snapshot_of(faults_db)
        settings = PruneSettings(lock_timeout_ms=300, statement_timeout_ms=300)
        eng, call = victim_call(faults_url, "sessions", 5, use_ops, settings=settings,
                                **({"retry": Retry(attempts=1)} if use_ops else {}))
        killer_eng = engine_for(faults_url, app="fault-killer")
        try:
            async with killer_eng.connect() as killer:
                await killer.execution_options(isolation_level="AUTOCOMMIT")
                await arm(killer, "commit", 1)
                try:
                    with pytest.raises(errors.LockTimeout) as info:
                        await asyncio.wait_for(call(), 60)
                finally:
                    await disarm(killer)
        finally:
            await eng.dispose()
            await killer_eng.dispose()
        assert_operator_message(info.value, "lock timeout")
        assert await snapshot_of(faults_db) == before
        journal = await journal_rows(faults_db)
        assert [s for s, _, _ in journal] == (["failed"] if use_ops else [])


# ------------------------------------------------------------------------------ drain
async def test_a_drain_killed_mid_batch_keeps_committed_batches_and_resumes(
    faults_db: AsyncEngine, faults_url: str
) -> None:
    rng = random.Random(5)
    pruner = registry.get("sessions")
    kept = resumed = 0
    for trial in range(DRAIN_TRIALS):
        await reset_data(faults_db, seed=2_000 + trial)
        cutoff = datetime.now(UTC)
        dry = await execute_pruner(faults_db, pruner, before=cutoff, limit=10_000, dry_run=True)
        order = [str(i) for i in dry.ids]  # the candidates, oldest first
        batch = rng.randint(2, max(2, len(order) // 3))
        k = rng.randint(2, len(order) // batch)  # the batch that dies; it is full
        # rows per session of each hooked table: 2 kernels, 4 RBAC rows, 1 session, 1 journal row
        point, per = rng.choice([("kernels", 2), ("rbac", 4), ("sessions", 1), ("commit", 1),
                                 ("journal", 0)])
        nth = k if per == 0 else (k - 1) * batch * per + rng.randint(1, batch * per)
        before = await snapshot_of(faults_db)

        victim = engine_for(faults_url, app=VICTIM)
        killer_eng = engine_for(faults_url, app="fault-killer")
        try:
            async with killer_eng.connect() as killer:
                await killer.execution_options(isolation_level="AUTOCOMMIT")
                await arm(killer, point, nth)
                task = asyncio.create_task(drain(victim, sweep(pruner, before=cutoff, limit=batch),
                                                 operator="drain-test", reason="kill trial",
                                                 retry=Retry(attempts=1)))
                pid = await wait_parked(killer, task)
                await killer.execute(sa.select(sa.func.pg_terminate_backend(pid)))
                await disarm(killer)
            first = await asyncio.wait_for(task, 60)
        finally:
            await victim.dispose()
            await killer_eng.dispose()

        # the operator is told, in one line, and the committed batches are reported
        assert first.stopped == "failed" and first.error
        assert "\n" not in first.error and "unreachable" in first.error
        assert (first.batches, first.count) == (k - 1, (k - 1) * batch)
        gone = [str(i) for i in first.ids]
        assert gone == order[: (k - 1) * batch]  # exactly the oldest batches, in order
        after = await snapshot_of(faults_db)
        # every row not belonging to a pruned session is exactly as it was
        untouched = {t: [r for r in rows if not any(g in r for g in gone)]
                     for t, rows in before.items()}
        assert after == untouched, f"drain killed at {point}#{nth} (batch {k} of {batch})"
        runs = await journal_rows(faults_db)
        assert [s for s, _, _ in runs] == ["succeeded"] * (k - 1) + ["failed"]

        # resuming drains the rest: nothing twice, nothing left
        second = await drain(faults_db, sweep(pruner, before=cutoff, limit=batch),
                             operator="drain-test", reason="resume")
        assert second.stopped == "done" and second.error is None
        assert [str(i) for i in second.ids] == order[(k - 1) * batch:]
        left = await execute_pruner(faults_db, pruner, before=cutoff, limit=10_000, dry_run=True)
        assert left.count == 0
        kept += first.count
        resumed += second.count
    print(f"\ndrain trials: {DRAIN_TRIALS}, committed batches kept: {kept} rows, "
          f"resumed: {resumed} rows, partial batches: 0")


# ------------------------------------------------------------------------------ retries
async def test_a_backend_killed_mid_prune_is_retried_and_the_prune_completes_once(
    faults_db: AsyncEngine, faults_url: str
) -> None:
    """With the default retry policy a dropped connection is transient: the killed attempt is
    journaled 'retried' (nothing of it stays), the next attempt deletes what a rehearsal said,
    each id is reported once; the CLI exits 0 the same way, and a drain ends 'done'."""
    rng = random.Random(29)
    pruner = registry.get("sessions")
    for trial in range(size(4, 16)):
        await reset_data(faults_db, seed=6_000 + trial)
        point, nth, limit = await plan_trial(faults_db, rng, "sessions", True)
        cutoff = datetime.now(UTC)
        dry = await execute_pruner(faults_db, pruner, before=cutoff, limit=limit, dry_run=True)
        kind = ("ops", "cli", "drain")[trial % 3]
        victim = engine_for(faults_url, app=VICTIM)
        killer_eng = engine_for(faults_url, app="fault-killer")
        req = sweep(pruner, before=cutoff, limit=limit)
        try:
            async with killer_eng.connect() as killer:
                await killer.execution_options(isolation_level="AUTOCOMMIT")
                await arm(killer, point, nth)
                if kind == "ops":
                    call: Awaitable[Any] = operations_module().prune(  # type: ignore[union-attr]
                        victim, req, operator="t", reason="retry trial")
                elif kind == "cli":
                    call = asyncio.to_thread(cli, "prune", "sessions", "--before",
                                             cutoff.isoformat(), "--limit", str(limit), "--yes",
                                             "--json", url=faults_url)
                else:
                    call = drain(victim, sweep(pruner, before=cutoff, limit=max(1, limit)),
                                 operator="t", reason="retry trial")
                task = asyncio.ensure_future(call)
                pid = await wait_parked(killer, task, app=None if kind == "cli" else VICTIM)
                await killer.execute(sa.select(sa.func.pg_terminate_backend(pid)))
                await disarm(killer)
                out = await asyncio.wait_for(task, 120)
        finally:
            await victim.dispose()
            await killer_eng.dispose()
        statuses = [s for s, _, _ in await journal_rows(faults_db)]
        assert statuses.count("retried") == 1 and "failed" not in statuses, statuses
        if kind == "cli":
            assert out.returncode == 0, out.stderr
            ids = json.loads(out.stdout)["ids"]
        elif kind == "ops":
            ids = [str(i) for i in out.ids]
        else:
            assert out.stopped == "done" and out.error is None
            ids = [str(i) for i in out.ids]
        if kind != "drain":
            assert ids == [str(i) for i in dry.ids]  # the same rows, each once
        assert len(ids) == len(set(ids))
        left = await execute_pruner(faults_db, pruner, before=cutoff, limit=10_000,
                                    dry_run=True)
        assert not set(ids) & {str(i) for i in left.ids}
    print(f"\nretry trials: {size(4, 16)}, every killed attempt retried once, ids once")
