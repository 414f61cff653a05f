"""The cases of issue 11, each with its input: two prunes at once over shared dependency edges,
a poison row (a child set too big for the statement timeout), a blocked prefix, and a stream of
rows back-dated behind a drain's position.

Sizes: the issue's inputs are 300,000 demo sessions / 600,000 children / 300,000 blocked rows;
the default run uses a tenth (PRUNER_SOAK=full: the issue's sizes).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core import PruneSettings, registry, sweep
from core.demo.cluster import LocalCluster
from core.demo.seed import create_schema, seed
from core.drain import drain
from tests.reliability.helpers import ROOT, engine_for, sample_waits, size

pytestmark = pytest.mark.soak

SESSIONS = registry.get("sessions")


@pytest.fixture
def fresh_db(pg_cluster: LocalCluster, request: pytest.FixtureRequest) -> str:
    """A database of its own for each test (dropped at the end of the session's cluster)."""
    return pg_cluster.create_database(f"backlog_{request.node.name[:40]}_{os.getpid()}")


async def _cli(url: str, app: str, *argv: str, **env_extra: str,
               ) -> tuple[int, dict[str, Any], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRUNER_")}
    env |= {"PRUNER_DATABASE_URL": f"{url}?application_name={app}", "PRUNER_OPERATOR": app,
            **env_extra}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "core", *argv, "--json", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, json.loads(out) if out.strip() else {}, err.decode()


# ------------------------------------------------------------------------------ case 1
async def test_two_prunes_at_once_over_shared_edges_never_wait_on_each_other(
    fresh_db: str,
) -> None:
    """Issue 11, case 1: demo sessions with dependency edges between sessions of any age, two
    `pruner prune sessions --older-than 1d --limit N --yes --json` started together. Before:
    one failed on a lock timeout in session_dependencies (or they deadlocked). Now both finish,
    take disjoint sessions, and every edge between their batches goes exactly once."""
    n, limit = size(30_000, 300_000), size(2_000, 20_000)
    engine = engine_for(fresh_db, app="backlog-setup")
    await seed(engine, sessions=n)
    async with engine.connect() as conn:
        edges = (await conn.execute(sa.text("SELECT count(*) FROM session_dependencies"))
                 ).scalar_one()
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_waits(engine, stop, pruner_app="pruner-two"))
    try:
        (code_a, a, err_a), (code_b, b, err_b) = await asyncio.gather(
            *(_cli(fresh_db, f"pruner-two-{i}", "prune", "sessions", "--older-than", "1d",
                   "--limit", str(limit), "--yes") for i in range(2)))
    finally:
        stop.set()
        waits = await sampler
    assert (code_a, code_b) == (0, 0), (err_a, err_b)
    # each took `limit` candidates; a parent with a row the other held is deferred ("busy")
    assert a["count"] + a["busy"] == b["count"] + b["busy"] == limit
    assert not set(a["ids"]) & set(b["ids"])
    async with engine.connect() as conn:
        left = (await conn.execute(sa.text("SELECT count(*) FROM session_dependencies"))
                ).scalar_one()
    assert edges - left == a["deleted"]["session_dependencies"] + b["deleted"][
        "session_dependencies"]
    await engine.dispose()
    print(f"\ntwo prunes at once: {n:,} sessions, {edges:,} edges, limit {limit:,} each: both "
          f"done, busy {a['busy']} + {b['busy']}, longest sampled pruner lock wait "
          f"{waits['pruner'] * 1000:.1f} ms")
    assert waits["pruner"] < 1.0


# ------------------------------------------------------------------------------ case 4
async def test_a_poison_row_is_parked_and_every_other_row_is_drained(fresh_db: str) -> None:
    """Issue 11, case 4: the oldest candidate has a child set too big for the statement
    timeout. Before: every batch failed on it, even --batch-size 1, and the error did not name
    it. Now the drain isolates it, parks it with its reason and child counts, drains the rest;
    `pruner parked` names it, and `--retry --in-chunks` prunes it chunk by chunk."""
    children = size(200_000, 600_000)
    engine = engine_for(fresh_db, app="backlog-setup")
    await create_schema(engine)
    async with engine.begin() as conn:
        poison = (await conn.execute(sa.text(
            "INSERT INTO sessions (name, user_uuid, group_id, status, terminated_at) VALUES "
            "('poison', gen_random_uuid(), gen_random_uuid(), 'TERMINATED', "
            "now() - interval '400 days') RETURNING id::text"))).scalar_one()
        await conn.execute(sa.text(
            "INSERT INTO kernels (session_id, status, terminated_at) SELECT :s, 'TERMINATED', "
            "now() - interval '400 days' FROM generate_series(1, :n)"),
            {"s": poison, "n": children})
        await conn.execute(sa.text(
            "INSERT INTO sessions (name, user_uuid, group_id, status, terminated_at) "
            "SELECT 'ok', gen_random_uuid(), gen_random_uuid(), 'TERMINATED', "
            "now() - make_interval(days => 2 + g) FROM generate_series(1, 40) AS g"))
        await conn.execute(sa.text("ANALYZE"))
    for batch in ("1", "16"):
        code, doc, err = await _cli(fresh_db, "pruner-poison", "drain", "sessions",
                                    "--older-than", "1d", "--batch-size", batch, "--retries",
                                    "1", "--yes", PRUNER_STATEMENT_TIMEOUT_MS="200")
        assert code == 0, err
        assert doc["stopped"] == "done", doc
        assert doc["parked"] == ([poison] if batch == "1" else [])  # parked once, then passed by
        assert doc["count"] == (40 if batch == "1" else 0)
    code, listed, err = await _cli(fresh_db, "pruner-poison", "parked", "sessions")
    (entry,) = listed["parked"]
    assert entry["row_key"] == poison and "statement timeout" in entry["reason"], entry
    assert entry["detail"]["children"]["kernels"] == children
    async with engine.connect() as conn:
        kept = (await conn.execute(sa.text("SELECT count(*) FROM kernels WHERE session_id = :s"),
                                   {"s": poison})).scalar_one()
    assert kept == children  # untouched
    # on request, its kernels go in chunks (each its own transaction), the session last
    code, doc, err = await _cli(fresh_db, "pruner-poison", "parked", "sessions", "--retry",
                                "--in-chunks", "5000", "--yes", PRUNER_STATEMENT_TIMEOUT_MS="200")
    assert code == 0, err
    (done,) = doc["chunked"]
    assert done["key"] == poison and done["count"] == 1
    assert done["deleted"]["kernels"] == children and len(done["chunks"]) >= children // 5000
    async with engine.connect() as conn:
        left = (await conn.execute(sa.text("SELECT count(*) FROM kernels"))).scalar_one()
        chunk_runs = (await conn.execute(sa.text(
            "SELECT count(*) FROM pruner.prune_runs WHERE kind = 'chunk'"))).scalar_one()
    assert left == 0 and chunk_runs == len(done["chunks"])
    code, listed, err = await _cli(fresh_db, "pruner-poison", "parked", "sessions")
    assert listed["parked"] == []
    await engine.dispose()


# ------------------------------------------------------------------------------ case 5
async def test_a_drain_passes_a_blocked_prefix_once(fresh_db: str) -> None:
    """Issue 11, case 5: blocked rows older than every candidate. Before: every batch walked
    them again (3.6 s a batch instead of 0.1 s; with a 2 s statement timeout the drain stopped
    after 4,000 of 20,000). Now the keyset window passes them in the first batch: the drain
    takes every candidate in ceil(candidates / batch) batches (one more when the first one,
    which passes the prefix, is narrowed) and leaves the blocked rows."""
    blocked, candidates, batch = size(30_000, 300_000), size(2_000, 20_000), size(200, 2_000)
    engine = engine_for(fresh_db, app="backlog-setup")
    await create_schema(engine)
    async with engine.begin() as conn:
        await conn.execute(sa.text(
            "INSERT INTO sessions (name, user_uuid, group_id, status, terminated_at) "
            "SELECT CASE WHEN g <= :b THEN 'blocked' ELSE 'ok' END, gen_random_uuid(), "
            "gen_random_uuid(), 'TERMINATED', now() - make_interval(secs => 1e8 - g) "
            "FROM generate_series(1, CAST(:b AS int) + CAST(:c AS int)) AS g"),
            {"b": blocked, "c": candidates})
        await conn.execute(sa.text(
            "INSERT INTO routings (endpoint, session) SELECT gen_random_uuid(), id "
            "FROM sessions WHERE name = 'blocked'"))
        await conn.execute(sa.text("ANALYZE"))
    r = await drain(engine, sweep(SESSIONS, before=datetime.now(UTC), limit=batch),
                    operator="blocked-prefix", settings=PruneSettings(statement_timeout_ms=2_000))
    # the first batch pays for the prefix once (on a busy box it may run out of time and be
    # narrowed down once); every later one starts past it
    assert (r.stopped, r.count) == ("done", candidates)
    assert -(-candidates // batch) <= r.batches <= -(-candidates // batch) + 1
    async with engine.connect() as conn:
        left = (await conn.execute(sa.text("SELECT count(*) FROM sessions"))).scalar_one()
    assert left == blocked
    await engine.dispose()


# ------------------------------------------------------------------------------ case 6
async def test_a_drain_ends_while_back_dated_rows_keep_arriving(fresh_db: str) -> None:
    """Issue 11, case 6: rows back-dated below the cutoff arrive faster than one batch. Before:
    the drain never ended. Now it ends `done` with what its window held; the newcomers are left
    for the next run, which takes them."""
    engine = engine_for(fresh_db, app="backlog-setup")
    await create_schema(engine)
    insert = sa.text(
        "INSERT INTO sessions (name, user_uuid, group_id, status, terminated_at) "
        "SELECT :name, gen_random_uuid(), gen_random_uuid(), 'TERMINATED', "
        "now() - make_interval(days => :days) - make_interval(secs => g) "
        "FROM generate_series(1, :n) AS g")
    async with engine.begin() as conn:
        await conn.execute(insert, {"name": "first", "days": 10, "n": 100})

    async def stream(progress: Any) -> None:  # 2 batches' worth behind the position, each time
        async with engine.begin() as conn:
            await conn.execute(insert, {"name": "late", "days": 30, "n": 20})

    cutoff = datetime.now(UTC) - timedelta(days=1)
    r = await drain(engine, sweep(SESSIONS, before=cutoff, limit=10), operator="stream",
                    progress=stream)
    assert (r.stopped, r.count, r.batches) == ("done", 100, 10)
    again = await drain(engine, sweep(SESSIONS, before=cutoff, limit=1_000), operator="stream")
    assert (again.stopped, again.count) == ("done", 200)
    await engine.dispose()
