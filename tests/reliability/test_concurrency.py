"""Concurrency: N worker processes prune the same entity at once while the platform keeps writing.

Each worker is a separate process (spawn) with its own engine and event loop. A mutator process
keeps turning live sessions dead (with an old timestamp, so they qualify at once), inserting new
live and dead sessions and adding dependency edges. Promises checked:

* every deleted row is reported by exactly one worker, and the union of reported ids is exactly
  the set of rows gone from the table;
* no row that was live (or blocked) when a prune ran is ever deleted;
* per-table counts add up (rows before + rows inserted - rows after = rows reported deleted);
* no deadlock, no hang, no error; with `core.operations`, the journal agrees with the deletes.

Size: 8 workers x 12 rounds by default, 8 x 100 under PRUNER_SOAK=full.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.reliability.helpers import (
    ids_of,
    mutator,
    operations_module,
    prune_worker,
    seed_sessions,
    size,
    table_counts,
)

WORKERS = 8
ROUNDS = size(12, 100)
DEAD, LIVE = size(1_500, 8_000), size(400, 2_000)
MAX_LIMIT = 25
JOIN_TIMEOUT = 600  # a hang (e.g. an undetected deadlock) fails the test instead of blocking it
COUNTED = ("sessions", "kernels", "session_dependencies", "association_scopes_entities")

BLOCKED = ("status <> 'RUNNING' AND ("
           "EXISTS (SELECT 1 FROM routings r WHERE r.session = sessions.id) OR "
           "EXISTS (SELECT 1 FROM kernels k WHERE k.session_id = sessions.id "
           "AND k.status = 'RUNNING'))")

pytestmark = pytest.mark.soak


async def _join(procs: list[Any], seconds: float) -> list[Any]:
    """Join processes without blocking the event loop; returns those still alive (killed)."""
    for p in procs:
        await asyncio.to_thread(p.join, seconds)
    hung = [p for p in procs if p.is_alive()]
    for p in hung:
        p.kill()
    return hung


def _read(path: Path) -> dict[str, Any]:
    report = json.loads(path.read_text())
    assert "fatal" not in report, report.get("fatal")
    return report


async def test_workers_and_a_mutator_never_lose_or_double_count_a_row(
    db: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    async with db.begin() as conn:
        await seed_sessions(conn, dead=DEAD, live=LIVE, blocked=DEAD // 50, stuck=DEAD // 50,
                            deps=(DEAD + LIVE) // 10)
    async with db.connect() as conn:
        before = await table_counts(conn)
        live0 = await ids_of(conn, "status = 'RUNNING'")
        dead0 = await ids_of(conn, "status <> 'RUNNING'")
        blocked0 = await ids_of(conn, BLOCKED)
    assert blocked0 and live0 and dead0

    use_ops = operations_module() is not None
    ctx = mp.get_context("spawn")
    barrier, stop = ctx.Barrier(WORKERS + 2), ctx.Event()
    outs = [tmp_path / f"worker-{i}.json" for i in range(WORKERS)]
    workers = [
        ctx.Process(target=prune_worker, args=(database_url, "sessions", ROUNDS, MAX_LIMIT, i,
                                               str(out), barrier, use_ops))
        for i, out in enumerate(outs)
    ]
    mut_out = tmp_path / "mutator.json"
    mut = ctx.Process(target=mutator, args=(database_url, sorted(live0), 1234, str(mut_out),
                                            barrier, stop))
    for p in (*workers, mut):
        p.start()
    try:
        await asyncio.to_thread(barrier.wait, 120)  # everyone connected: go
        hung = await _join(workers, JOIN_TIMEOUT)
    finally:
        stop.set()
        hung_mut = await _join([mut], 120)
    assert not hung and not hung_mut, "a worker or the mutator hung (deadlock?)"
    assert all(p.exitcode == 0 for p in (*workers, mut))

    reports = [_read(o) for o in outs]
    mutated = _read(mut_out)
    failures = [f for r in reports for f in r["failures"]]
    assert failures == [], failures

    # every deleted row reported by exactly one worker
    reported = [i for r in reports for i in r["ids"]]
    assert len(reported) == len(set(reported)), "a row was reported by two prunes"
    deleted = set(reported)

    async with db.connect() as conn:
        after = await table_counts(conn)
        remaining = await ids_of(conn)
        orphan_rbac = (await conn.execute(sa.text(
            "SELECT count(*) FROM association_scopes_entities a JOIN unnest(CAST(:ids AS text[])) "
            "AS d(id) ON a.entity_id = d.id OR a.scope_id = d.id"), {"ids": sorted(deleted)}
        )).scalar_one()

    # the union of reported ids is exactly what is gone
    everything = live0 | dead0 | set(mutated["born_live"]) | set(mutated["born_dead"])
    assert deleted == everything - remaining

    # only rows that were terminal (and unblocked) were ever deleted; live rows all survive
    stuck = set(mutated["stuck"])
    terminal = dead0 | set(mutated["made_dead"]) | set(mutated["born_dead"])
    assert deleted <= terminal - blocked0
    never_terminal = (live0 | set(mutated["born_live"])) - set(mutated["made_dead"]) - stuck
    assert never_terminal <= remaining
    assert blocked0 <= remaining and stuck <= remaining
    assert orphan_rbac == 0, "RBAC rows of pruned sessions were left behind"

    # per-table conservation: before + inserted - after == reported deleted
    inserted = mutated["inserted"]
    for t in COUNTED:
        reported_t = sum(r["deleted"].get(t, 0) for r in reports)
        assert before[t] + inserted.get(t, 0) - after[t] == reported_t, t

    # there really was a race: several workers deleted rows, the mutator changed rows meanwhile
    assert sum(1 for r in reports if r["ids"]) >= 2
    assert mutated["made_dead"]

    if use_ops:  # the journal's succeeded runs add up to exactly what was deleted
        async with db.connect() as conn:
            total, runs = (await conn.execute(sa.text(
                "SELECT coalesce(sum(count), 0), coalesce(array_agg(id), '{}') "
                "FROM pruner.prune_runs WHERE status = 'succeeded'"))).one()
            failed = (await conn.execute(sa.text(
                "SELECT count(*) FROM pruner.prune_runs WHERE status <> 'succeeded'"
            ))).scalar_one()
            journaled_ids = (await conn.execute(sa.text(
                "SELECT coalesce(array_agg(i), '{}') FROM pruner.prune_run_ids, unnest(ids) i"
            ))).scalar_one()
        assert total == len(deleted)
        assert sorted(runs) == sorted(i for r in reports for i in r["run_ids"])
        assert len(runs) == WORKERS * ROUNDS  # one succeeded run per prune, empty ones too
        assert failed == 0
        assert sorted(journaled_ids) == sorted(deleted)

    print(f"\nconcurrency: {WORKERS} workers x {ROUNDS} rounds, {len(deleted)} sessions deleted "
          f"({sum(after.values())} rows left), {mutated['steps']} mutator steps "
          f"({len(mutated['made_dead'])} died, {len(mutated['born_live'])} + "
          f"{len(mutated['born_dead'])} born), journal={'yes' if use_ops else 'no'}")


async def test_prunes_sharing_dependency_edges_and_rbac_rows_do_not_deadlock(
    db: AsyncEngine,
) -> None:
    """Rows two concurrent prunes both delete (an edge or RBAC row joining sessions that end up in
    different prunes' batches) make one wait for the other; they must never deadlock."""
    from core import PruneSettings, execute_pruner, registry

    n = size(400, 3_000)
    async with db.begin() as conn:
        await seed_sessions(conn, dead=n, live=0)
        # each session depends on its 1st..3rd successor by age, and is RBAC scope of the 5th
        await conn.execute(sa.text("""
            WITH o AS (SELECT id, row_number() OVER (ORDER BY terminated_at, id) AS r
                       FROM sessions)
            INSERT INTO session_dependencies (session_id, depends_on)
            SELECT a.id, b.id FROM o a JOIN o b ON b.r IN (a.r + 1, a.r + 2, a.r + 3)"""))
        await conn.execute(sa.text("""
            WITH o AS (SELECT id, row_number() OVER (ORDER BY terminated_at, id) AS r
                       FROM sessions)
            INSERT INTO association_scopes_entities (scope_type, scope_id, entity_type, entity_id)
            SELECT 'session', b.id::text, 'session', a.id::text
            FROM o a JOIN o b ON b.r = a.r + 5"""))
        before = await table_counts(conn)
    pruner = registry.get("sessions")
    settings = PruneSettings(lock_timeout_ms=30_000)
    reported: list[Any] = []
    deleted: dict[str, int] = {}
    rounds = 0
    while True:
        rounds += 1
        results = await asyncio.gather(*[
            execute_pruner(db, pruner, before=datetime.now(UTC), limit=7, settings=settings)
            for _ in range(WORKERS)], return_exceptions=True)
        errors_ = [r for r in results if isinstance(r, BaseException)]
        assert errors_ == [], errors_  # a deadlock would surface as PruneFailed (40P01)
        for r in results:
            reported.extend(r.ids)
            for t, k in r.deleted.items():
                deleted[t] = deleted.get(t, 0) + k
        if all(r.count == 0 for r in results):
            break
    async with db.connect() as conn:
        after = await table_counts(conn)
    assert len(reported) == len(set(reported)) == n
    for t in COUNTED:
        assert before[t] - after[t] == deleted[t], t
    assert after["sessions"] == after["session_dependencies"] == 0
    assert after["association_scopes_entities"] == 0
    print(f"\nshared rows: {n} sessions, {before['session_dependencies']} edges, "
          f"{WORKERS} prunes at a time, {rounds} rounds, 0 deadlocks")


async def test_a_prune_chosen_as_a_deadlock_victim_leaves_that_parent_busy(
    db: AsyncEngine,
) -> None:
    """The deterministic deadlock: another transaction holds a kernel of session B, the prune
    (a long lock_timeout, so it waits) has locked A and B and waits on that kernel, and the other
    transaction then asks for A. PostgreSQL breaks the cycle by cancelling the prune's delete
    (it waited first, and the other side's deadlock_timeout is longer): the prune must not fail —
    it leaves B busy, deletes A and commits; the other transaction then goes on."""
    from core import PruneSettings, execute_pruner, registry
    from tests.factories import add_session

    a = await add_session(db, age_days=31)
    b = await add_session(db, age_days=30)
    other = await db.connect()
    try:
        await other.execute(sa.text("SET LOCAL deadlock_timeout = '30s'"))  # autobegun
        await other.execute(sa.text(
            "SELECT 1 FROM kernels WHERE session_id = :b LIMIT 1 FOR UPDATE"), {"b": b})
        mine = (await other.execute(sa.select(sa.func.pg_backend_pid()))).scalar_one()
        prune = asyncio.ensure_future(execute_pruner(
            db, registry.get("sessions"), before=datetime.now(UTC), limit=10,
            settings=PruneSettings(lock_timeout_ms=30_000)))
        async with db.connect() as watch:  # the prune waits on the kernel row we hold
            for _ in range(3000):
                waiting = (await watch.execute(sa.text(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> :me "
                    "AND locktype = 'transactionid'"), {"me": mine})).scalar_one()
                if waiting or prune.done():
                    break
                await asyncio.sleep(0.01)
        assert not prune.done(), prune.result()
        asks_for_a = asyncio.ensure_future(other.execute(sa.text(
            "SELECT id FROM sessions WHERE id = :a FOR UPDATE"), {"a": a}))
        result = await asyncio.wait_for(prune, 60)
        assert (result.ids, result.busy) == ([a], 1)
        assert (await asyncio.wait_for(asks_for_a, 60)).all() == []  # A is gone
        await other.commit()
    finally:
        await other.close()
    async with db.connect() as conn:
        left = (await conn.execute(sa.text(
            "SELECT (SELECT count(*) FROM sessions WHERE id = :b), "
            "(SELECT count(*) FROM kernels WHERE session_id = :b)"), {"b": b})).one()
    assert tuple(left) == (1, 2)  # B and its kernels are untouched, for a later prune
