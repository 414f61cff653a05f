"""Shared pieces of the reliability tests: soak sizes, bulk seeding, fault hooks, worker processes.

Worker functions live here (not in a test module) so that `multiprocessing` spawn children can
import them cheaply.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import traceback
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from core.reference_schema import metadata

SOAK_ENV = "PRUNER_SOAK"
FULL = os.environ.get(SOAK_ENV, "").strip().lower() == "full"


def size(default: int, full: int) -> int:
    """The default size of a soak figure, or the full one under PRUNER_SOAK=full."""
    return full if FULL else default


def one_line(exc: BaseException) -> str:
    return str(exc).strip()


def assert_operator_message(exc: BaseException, *mentions: str) -> None:
    """An operator-facing message: one non-empty line, no traceback, naming what went wrong."""
    msg = str(exc)
    assert msg.strip(), f"{type(exc).__name__} has an empty message"
    assert "\n" not in msg.strip(), f"message is not one line: {msg!r}"
    assert "Traceback" not in msg, msg
    for m in mentions:
        assert m.lower() in msg.lower(), f"{m!r} not in {msg!r}"


def engine_for(url: str, *, app: str = "pruner-test", server_settings: dict[str, str] | None = None,
               **kw: Any) -> AsyncEngine:
    """A pool-less engine (safe across event loops and process boundaries)."""
    opts = {"application_name": app, **(server_settings or {})}
    return create_async_engine(url, poolclass=NullPool,
                               connect_args={"server_settings": opts}, **kw)


# ------------------------------------------------------------------------------ the CLI
ROOT = Path(__file__).resolve().parents[2]


def cli(*argv: str, url: str | None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRUNER_")}
    if url is not None:
        env["PRUNER_DATABASE_URL"] = url
    return subprocess.run([sys.executable, "-m", "core", *argv], capture_output=True, text=True,
                          env=env, cwd=ROOT, input=stdin, timeout=120)


def assert_clean_failure(proc: subprocess.CompletedProcess[str], code: int, *mentions: str,
                         secret: str | None = None) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    err = proc.stderr.strip()
    assert "Traceback" not in proc.stderr and "\n" not in err, proc.stderr
    assert err.startswith("pruner: "), err
    assert "internal error" not in err, err
    for m in mentions:
        assert m.lower() in err.lower(), (m, err)
    if secret:
        assert secret not in proc.stderr + proc.stdout


# ------------------------------------------------------------------------------ data
REFERENCE_TABLES = [t.name for t in metadata.sorted_tables]
TRUNCATE_REFERENCE = "TRUNCATE " + ", ".join(f'"{t}"' for t in REFERENCE_TABLES) + " CASCADE"

# Bulk seeding, all in SQL with bound integers. Dead sessions are TERMINATED/CANCELLED with an old
# terminated_at; live ones are RUNNING with a routing (as on the platform). `:blocked` dead
# sessions keep a routing (RESTRICT), `:stuck` keep a RUNNING kernel: both must survive every prune.
_SEED_SESSIONS = [
    """
    INSERT INTO sessions (id, name, user_uuid, group_id, status, terminated_at)
    SELECT gen_random_uuid(), 'seed-' || g,
           '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-9000-000000000001',
           CASE WHEN g <= :dead THEN (ARRAY['TERMINATED','CANCELLED'])[1 + (g % 2)]
                ELSE 'RUNNING' END,
           CASE WHEN g <= :dead THEN now() - make_interval(secs => 86400 + random() * 3e7)
                ELSE NULL END
    FROM generate_series(1, :dead + :live) AS g
    """,
    """
    INSERT INTO kernels (session_id, cluster_role, status, terminated_at)
    SELECT s.id, CASE WHEN k = 1 THEN 'main' ELSE 'sub' END, s.status, s.terminated_at
    FROM sessions s CROSS JOIN generate_series(1, 2) AS k
    """,
    """
    INSERT INTO routings (endpoint, session)
    SELECT '00000000-0000-4000-a000-000000000001', id FROM sessions WHERE status = 'RUNNING'
    """,
    """
    INSERT INTO routings (endpoint, session)
    SELECT '00000000-0000-4000-a000-000000000002', id FROM sessions
    WHERE status <> 'RUNNING' ORDER BY random() LIMIT :blocked
    """,
    """
    UPDATE kernels SET status = 'RUNNING', terminated_at = NULL
    WHERE cluster_role = 'sub' AND session_id IN (
        SELECT s.id FROM sessions s WHERE s.status <> 'RUNNING'
          AND NOT EXISTS (SELECT 1 FROM routings r WHERE r.session = s.id)
        ORDER BY random() LIMIT :stuck)
    """,
    # dependency edges between random sessions, dead and live alike
    """
    INSERT INTO session_dependencies (session_id, depends_on)
    SELECT DISTINCT a.id, b.id
    FROM (SELECT id, row_number() OVER (ORDER BY random()) AS r FROM sessions) a
    JOIN (SELECT id, row_number() OVER (ORDER BY random()) AS r FROM sessions) b
      ON b.r = (a.r * 7) % (:dead + :live) + 1
    WHERE a.id <> b.id AND a.r <= :deps
    """,
    """
    INSERT INTO association_scopes_entities (scope_type, scope_id, entity_type, entity_id)
    SELECT 'user', s.user_uuid::text, 'session', s.id::text FROM sessions s
    UNION ALL
    SELECT 'project', s.group_id::text, 'session', s.id::text FROM sessions s
    UNION ALL
    SELECT 'session', k.session_id::text, 'kernel', k.id::text FROM kernels k
    """,
]


async def seed_sessions(conn: sa.ext.asyncio.AsyncConnection, *, dead: int, live: int,
                        blocked: int = 0, stuck: int = 0, deps: int = 0,
                        seed: float = 0.5) -> None:
    """Add `dead` + `live` sessions with kernels, routings, dependency edges and RBAC rows."""
    await conn.execute(sa.select(sa.func.setseed(seed)))
    params = dict(dead=dead, live=live, blocked=blocked, stuck=stuck, deps=deps)
    for stmt in _SEED_SESSIONS:
        typed = sa.text(stmt).bindparams(*(sa.bindparam(k, type_=sa.Integer) for k in params
                                           if f":{k}" in stmt))
        await conn.execute(typed, params)


async def table_counts(conn: sa.ext.asyncio.AsyncConnection) -> dict[str, int]:
    out = {}
    for t in metadata.sorted_tables:
        out[t.name] = (await conn.execute(sa.select(sa.func.count()).select_from(t))).scalar_one()
    return out


async def full_snapshot(conn: sa.ext.asyncio.AsyncConnection) -> dict[str, list[str]]:
    """Every row of every reference table as text, sorted: for exact 'nothing changed' checks."""
    out: dict[str, list[str]] = {}
    for t in metadata.sorted_tables:
        rows = await conn.execute(sa.text(f'SELECT t::text FROM "{t.name}" t'))  # noqa: S608
        out[t.name] = sorted(r[0] for r in rows)
    return out


async def ids_of(conn: sa.ext.asyncio.AsyncConnection, where: str = "true") -> set[str]:
    rows = await conn.execute(sa.text(f"SELECT id::text FROM sessions WHERE {where}"))  # noqa: S608
    return {r[0] for r in rows}


# ------------------------------------------------------------------------------ journal
def operations_module() -> Any | None:
    """core.operations once the lead has written it (None before)."""
    try:
        import core.operations as ops
    except ImportError:
        return None
    return ops if hasattr(ops, "prune") else None


# ------------------------------------------------------------------------------ worker processes
def _run(main: Callable[[], Awaitable[dict[str, Any]]], out: str) -> None:
    try:
        report = asyncio.run(main())
    except BaseException as exc:  # noqa: BLE001 - everything must reach the parent
        report = {"fatal": "".join(traceback.format_exception(exc))}
    Path(out).write_text(json.dumps(report))


def prune_worker(url: str, entity: str, rounds: int, max_limit: int, seed: int, out: str,
                 barrier: Any, use_operations: bool) -> None:
    """One worker process: `rounds` prunes of `entity` with random limits, results to `out`."""
    async def main() -> dict[str, Any]:
        from core import errors, execute_pruner, registry, sweep

        rng = random.Random(seed)
        pruner = registry.get(entity)
        ops = operations_module() if use_operations else None
        eng = engine_for(url, app=f"soak-worker-{seed}")
        ids: list[str] = []
        deleted: dict[str, int] = {}
        failures: list[str] = []
        run_ids: list[int] = []
        try:
            async with eng.connect() as conn:  # connected before the race starts
                await conn.execute(sa.text("SELECT 1"))
            barrier.wait(timeout=120)
            for i in range(rounds):
                limit = rng.randint(1, max_limit)
                try:
                    if ops is not None:
                        req = sweep(pruner, before=datetime.now(UTC), limit=limit)
                        r = await ops.prune(eng, req, operator=f"soak-{seed}", reason=f"round {i}")
                        run_ids.append(r.run_id)
                    else:
                        r = await execute_pruner(eng, pruner, before=datetime.now(UTC),
                                                 limit=limit)
                except errors.PrunerError as exc:
                    failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                ids.extend(str(x) for x in r.ids)
                for table, n in r.deleted.items():
                    deleted[table] = deleted.get(table, 0) + n
                if rng.random() < 0.3:
                    await asyncio.sleep(rng.random() / 200)
        finally:
            await eng.dispose()
        return {"ids": ids, "deleted": deleted, "failures": failures, "run_ids": run_ids}

    _run(main, out)


# The mutator's transitions, in the platform's own order: kernels end, the routing goes, then the
# session is marked dead with a timestamp already older than any cutoff the workers use.
_MAKE_DEAD = [
    "UPDATE kernels SET status = 'TERMINATED', terminated_at = now() - interval '2 days' "
    "WHERE session_id = :id AND NOT (:stuck AND cluster_role = 'sub')",
    "DELETE FROM routings WHERE session = :id",
    "UPDATE sessions SET status = 'TERMINATED', terminated_at = now() - interval '2 days' "
    "WHERE id = :id",
]


async def _insert_session(conn: sa.ext.asyncio.AsyncConnection, *, dead: bool) -> tuple[str, int]:
    """A new session (live and routed, or already dead); returns its id and RBAC row count."""
    sid = str(uuid.uuid4())
    row = {"id": sid, "u": str(uuid.uuid4()), "st": "TERMINATED" if dead else "RUNNING",
           "ts": datetime.now(UTC) - timedelta(days=3) if dead else None}
    await conn.execute(sa.text(
        "INSERT INTO sessions (id, name, user_uuid, group_id, status, terminated_at) "
        "VALUES (:id, 'mut', :u, :u, :st, :ts)"), row)
    kids = [str(uuid.uuid4()) for _ in range(2)]
    for k in kids:
        await conn.execute(sa.text(
            "INSERT INTO kernels (id, session_id, status, terminated_at) "
            "VALUES (:k, :id, :st, :ts)"), {**row, "k": k})
    if not dead:
        await conn.execute(sa.text("INSERT INTO routings (endpoint, session) "
                                   "VALUES (gen_random_uuid(), :id)"), {"id": sid})
    rbac = [("user", "u1", "session", sid), ("project", "p1", "session", sid)]
    rbac += [("session", sid, "kernel", k) for k in kids]
    for st, si, et, ei in rbac:
        await conn.execute(sa.text(
            "INSERT INTO association_scopes_entities (scope_type, scope_id, entity_type, "
            "entity_id) VALUES (:st, :si, :et, :ei)"), {"st": st, "si": si, "et": et, "ei": ei})
    return sid, len(rbac)


def mutator(url: str, live: list[str], seed: int, out: str, barrier: Any, stop: Any) -> None:
    """Keep the platform busy: live sessions die (with an old timestamp), new live and dead ones
    arrive, dependency edges appear. Reports which ids it made terminal and what it inserted."""
    async def main() -> dict[str, Any]:
        from sqlalchemy.exc import DBAPIError

        rng = random.Random(seed)
        eng = engine_for(url, app="soak-mutator")
        alive = list(live)  # live ids this process knows; never terminal unless moved below
        made_dead: list[str] = []
        stuck: list[str] = []
        born_live: list[str] = []
        born_dead: list[str] = []
        inserted = {"sessions": 0, "kernels": 0, "association_scopes_entities": 0,
                    "session_dependencies": 0}
        steps = 0
        try:
            async with eng.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
            barrier.wait(timeout=120)
            while not stop.is_set():
                steps += 1
                action = rng.random()
                try:
                    async with eng.begin() as conn:
                        if action < 0.45 and alive:
                            sid = alive.pop(rng.randrange(len(alive)))
                            keep_kernel = rng.random() < 0.1
                            for stmt in _MAKE_DEAD:
                                await conn.execute(sa.text(stmt), {"id": sid, "stuck": keep_kernel})
                            (stuck if keep_kernel else made_dead).append(sid)
                        elif action < 0.75:
                            dead = rng.random() < 0.5
                            sid, n_rbac = await _insert_session(conn, dead=dead)
                            (born_dead if dead else born_live).append(sid)
                            if not dead:
                                alive.append(sid)
                            inserted["sessions"] += 1
                            inserted["kernels"] += 2
                            inserted["association_scopes_entities"] += n_rbac
                        else:  # an edge from a random known session to a live one
                            pool = made_dead + born_dead + alive
                            if pool and alive:
                                a, b = rng.choice(pool), rng.choice(alive)
                                if a != b:
                                    n = (await conn.execute(sa.text(
                                        "INSERT INTO session_dependencies VALUES (:a, :b) "
                                        "ON CONFLICT DO NOTHING"), {"a": a, "b": b})).rowcount
                                    inserted["session_dependencies"] += n
                except DBAPIError as exc:
                    # Only an edge may fail: its session was pruned meanwhile (FK), and then
                    # nothing was committed.
                    if action < 0.75 or "foreign key" not in str(exc):
                        raise
                await asyncio.sleep(rng.random() / 500)
        finally:
            await eng.dispose()
        return {"made_dead": made_dead, "stuck": stuck, "born_live": born_live,
                "born_dead": born_dead, "inserted": inserted, "steps": steps}

    _run(main, out)


# ------------------------------------------------------------------------------ lock waits
WAITS = sa.text("""
SELECT a.application_name AS app, extract(epoch FROM clock_timestamp() - l.waitstart) AS s
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE NOT l.granted AND a.datname = current_database() AND l.waitstart IS NOT NULL
""")


async def sample_waits(engine: AsyncEngine, stop: asyncio.Event,
                       pruner_app: str = "pruner-soak") -> dict[str, Any]:
    """The longest lock wait seen by pruner backends (application_name starting with
    `pruner_app`) and by every other backend, from `pg_locks.waitstart`, sampled every few ms
    until `stop` is set."""
    longest = {"pruner": 0.0, "platform": 0.0}
    samples = waiting = 0
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        while not stop.is_set():
            samples += 1
            for app, s in (await conn.execute(WAITS)).all():
                kind = "pruner" if app.startswith(pruner_app) else "platform"
                longest[kind] = max(longest[kind], float(s))
                waiting += kind == "pruner"
            await asyncio.sleep(0.003)
    return {"samples": samples, "pruner_waiting_samples": waiting, **longest}
