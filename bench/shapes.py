"""Data sets of one shape each, for the cases issues 10 and 11 name: many old blocked sessions
beside a few candidates. Reference schema, filled set-based in SQL (constants and bound integers
only), secondary indexes built after the load, then VACUUM ANALYZE like every template.

    blocked_template(bc, name, blocked=500_000, candidates=1)       preview bounded (issue 10)
    blocked_template(bc, name, blocked=300_000, candidates=20_000)  blocked prefix (issue 11)
    blocked_template(bc, name, blocked=0, candidates=20_000)        the same batch with none

Blocked sessions are TERMINATED, 200–365 days old, each held by a routing (ON DELETE RESTRICT);
candidates are 1–100 days old, each with two dead kernels and the demo's four RBAC rows, so a
batch of them does a prune's usual work. The candidates are the same rows (same ids, same ages)
whatever `blocked` is.
"""

from __future__ import annotations

import time

import sqlalchemy as sa

from bench.cluster import BenchCluster
from bench.data import _SECONDARY_INDEXES, Template, _finish
from core.db import create_engine
from core.demo.seed import create_schema

_CANDIDATES = [
    """
    INSERT INTO sessions (id, name, user_uuid, group_id, status, result, created_at,
                          terminated_at)
    SELECT md5('candidate-' || g)::uuid, 'cand-' || g,
           '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-9000-000000000001',
           'TERMINATED', 'SUCCESS', now() - make_interval(days => 101),
           now() - make_interval(secs => 86400 + (g::bigint * 7919 % :c) * (99 * 86400.0 / :c))
    FROM generate_series(1, :c) AS g
    """,
    """
    INSERT INTO kernels (session_id, cluster_role, status, created_at, terminated_at)
    SELECT s.id, CASE WHEN k = 1 THEN 'main' ELSE 'sub' END, 'TERMINATED', s.created_at,
           s.terminated_at
    FROM sessions s CROSS JOIN generate_series(1, 2) AS k
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
_BLOCKED = [
    """
    INSERT INTO sessions (id, name, user_uuid, group_id, status, result, created_at,
                          terminated_at)
    SELECT md5('blocked-' || g)::uuid, 'blocked-' || g,
           '00000000-0000-4000-8000-000000000002', '00000000-0000-4000-9000-000000000002',
           'TERMINATED', 'SUCCESS', now() - make_interval(days => 366),
           now() - make_interval(secs => 200 * 86400
                                        + (g::bigint * 7919 % :b) * (165 * 86400.0 / :b))
    FROM generate_series(1, :b) AS g
    """,
    """
    INSERT INTO routings (endpoint, session, status)
    SELECT '00000000-0000-4000-a000-000000000001', s.id, 'HEALTHY'
    FROM sessions s WHERE s.name LIKE 'blocked-%'
    """,
]


async def blocked_template(bc: BenchCluster, name: str, *, blocked: int,
                           candidates: int) -> Template:
    started = time.perf_counter()
    engine = create_engine(bc.new_database(name))
    try:
        await create_schema(engine)
        async with engine.begin() as conn:
            ddl = (await conn.execute(_SECONDARY_INDEXES)).all()
            for row in ddl:
                await conn.execute(sa.text(f"DROP INDEX {row.name}"))
            for stmt in _CANDIDATES + (_BLOCKED if blocked else []):
                await conn.execute(sa.text(stmt), {"c": candidates, "b": blocked})
            for row in ddl:
                await conn.execute(sa.text(row.ddl))
        rows = await _finish(engine)
    finally:
        await engine.dispose()
    return Template(name, rows, time.perf_counter() - started, bc.size(name))
