"""Template databases, seeded once per run and copied for every timed measurement.

`sessions_template` is the full reference data set of `core.demo` (2 kernels and 4 RBAC rows per
session, ~10% live, ~1.5% blocked). Secondary indexes are dropped while it loads and rebuilt after:
the same indexes, built in one sort each instead of millions of random inserts. The demo ages
each session independently of where it lands in the table ("age-shuffled": the oldest rows are
spread over every page); `time_ordered=True` seeds the same data with ages falling in insertion
order, as a live platform writes them (a session's kernels and RBAC rows follow it).
`logs_template` is an audit_logs-only database filled with generate_series, in time order (as an
append-only log is written): the cheap way to get a 10M-row table (seeding 10M full sessions
would take far longer than the whole run on this box).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa

from bench.cluster import BenchCluster
from core.db import create_engine
from core.demo.seed import _SEED, create_schema, seed
from core.reference_schema import metadata

_SECONDARY_INDEXES = sa.text("""
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS ddl
FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = 'public'
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
""")

# Append-only, so written in time order: id 1 is the oldest row, as in a real audit log.
_LOGS = """
INSERT INTO audit_logs (created_at, actor, action, target)
SELECT now() - make_interval(secs => 60 + (:n - g) * (365 * 86400.0 / :n)),
       'user-' || (g % 97), (ARRAY['login','create','destroy','share'])[1 + g % 4], 'sess-' || g
FROM generate_series(1, :n) AS g
"""


_SHUFFLED_AGE = "random() * 365 * 86400 AS age"
_ORDERED_AGE = "(:n - g) * (365 * 86400.0 / :n) AS age"  # g = 1 is the oldest session
assert _SHUFFLED_AGE in _SEED[0], "core.demo.seed changed: update the time-ordered variant"


async def _seed_time_ordered(engine: sa.ext.asyncio.AsyncEngine, sessions: int) -> None:
    """`core.demo.seed` with one change: a session's age follows its insertion order."""
    async with engine.begin() as conn:
        await conn.execute(sa.select(sa.func.setseed(0.42)))
        for i, stmt in enumerate(_SEED):
            sql = stmt.replace(_SHUFFLED_AGE, _ORDERED_AGE) if i == 0 else stmt
            await conn.execute(sa.text(sql), {"n": sessions})


@dataclass(frozen=True)
class Template:
    name: str
    rows: dict[str, int]
    seconds: float
    bytes: int


async def sessions_template(bc: BenchCluster, name: str, sessions: int, *,
                            time_ordered: bool = False) -> Template:
    started = time.perf_counter()
    engine = create_engine(bc.new_database(name))
    try:
        await create_schema(engine)
        async with engine.begin() as conn:
            ddl = (await conn.execute(_SECONDARY_INDEXES)).all()
            for row in ddl:
                await conn.execute(sa.text(f"DROP INDEX {row.name}"))
        if time_ordered:
            await _seed_time_ordered(engine, sessions)
        else:
            await seed(engine, sessions=sessions, seed_value=0.42)
        async with engine.begin() as conn:
            for row in ddl:
                await conn.execute(sa.text(row.ddl))
        rows = await _finish(engine)
    finally:
        await engine.dispose()
    return Template(name, rows, time.perf_counter() - started, bc.size(name))


async def logs_template(bc: BenchCluster, name: str, rows_n: int) -> Template:
    """Only audit_logs: `rows_n` rows evenly over the past year, oldest first, all older than a
    minute."""
    started = time.perf_counter()
    engine = create_engine(bc.new_database(name))
    try:
        await create_schema(engine)
        async with engine.begin() as conn:
            await conn.execute(sa.text("DROP INDEX ix_audit_logs_created_at"))
            await conn.execute(sa.select(sa.func.setseed(0.42)))
            await conn.execute(sa.text(_LOGS), {"n": rows_n})
            await conn.execute(sa.text(
                "CREATE INDEX ix_audit_logs_created_at ON audit_logs (created_at, id)"))
        rows = await _finish(engine)
    finally:
        await engine.dispose()
    return Template(name, rows, time.perf_counter() - started, bc.size(name))


async def _finish(engine: sa.ext.asyncio.AsyncEngine) -> dict[str, int]:
    """VACUUM ANALYZE (visibility map set, so copies start as a long-lived table would) + counts."""
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(sa.text("VACUUM ANALYZE"))
        counts = {}
        for table in metadata.sorted_tables:
            n = (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
            if n:
                counts[table.name] = n
        return counts
