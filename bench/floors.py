"""Hand-written SQL: what a DBA would type for the same job, the floor every ratio divides by.

Each floor deletes exactly the rows the pruner deletes (same cutoff, same oldest-first order, same
limit) and stays correct on any data: RBAC rows are matched in both directions for sessions and
kernels, as the pruner declares. What a floor may skip is bookkeeping the library owes its caller:
per-table counts, the returned ids, the explicit delete of session_dependencies (ON DELETE CASCADE
removes those rows anyway).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import asyncpg

CANDIDATES = """
SELECT s.id FROM sessions s
WHERE s.status IN ('TERMINATED', 'CANCELLED') AND s.terminated_at < $1
  AND NOT EXISTS (SELECT 1 FROM routings r WHERE r.session = s.id)
  AND NOT EXISTS (SELECT 1 FROM kernels k WHERE k.session_id = s.id
                  AND k.status NOT IN ('TERMINATED', 'CANCELLED'))
ORDER BY s.terminated_at, s.id LIMIT $2
FOR UPDATE OF s SKIP LOCKED
"""

# One statement, ids bound as arrays computed once.
ANY_ARRAY = f"""
WITH c AS (SELECT array_agg(id) AS ids, array_agg(id::text) AS tids FROM ({CANDIDATES}) x),
k AS (DELETE FROM kernels WHERE session_id = ANY ((SELECT ids FROM c)::uuid[])
      RETURNING id::text AS id),
kk AS MATERIALIZED (SELECT array_agg(id) AS tids FROM k),
r AS (DELETE FROM association_scopes_entities a
      WHERE (a.entity_type = 'session' AND a.entity_id = ANY ((SELECT tids FROM c)::text[]))
         OR (a.scope_type = 'session' AND a.scope_id = ANY ((SELECT tids FROM c)::text[]))
         OR (a.entity_type = 'kernel' AND a.entity_id = ANY ((SELECT tids FROM kk)::text[]))
         OR (a.scope_type = 'kernel' AND a.scope_id = ANY ((SELECT tids FROM kk)::text[])))
DELETE FROM sessions WHERE id = ANY ((SELECT ids FROM c)::uuid[])
"""  # noqa: S608 - constant text

# The same, deleting every table of the plan's tree explicitly, as the plan does: the dependency
# edges in both directions too (instead of leaving them to ON DELETE CASCADE). This is the floor
# of issue 10's CLI target ("the floor deleting the same cascade tree explicitly").
EXPLICIT = f"""
WITH c AS (SELECT array_agg(id) AS ids, array_agg(id::text) AS tids FROM ({CANDIDATES}) x),
k AS (DELETE FROM kernels WHERE session_id = ANY ((SELECT ids FROM c)::uuid[])
      RETURNING id::text AS id),
kk AS MATERIALIZED (SELECT array_agg(id) AS tids FROM k),
r AS (DELETE FROM association_scopes_entities a
      WHERE (a.entity_type = 'session' AND a.entity_id = ANY ((SELECT tids FROM c)::text[]))
         OR (a.scope_type = 'session' AND a.scope_id = ANY ((SELECT tids FROM c)::text[]))
         OR (a.entity_type = 'kernel' AND a.entity_id = ANY ((SELECT tids FROM kk)::text[]))
         OR (a.scope_type = 'kernel' AND a.scope_id = ANY ((SELECT tids FROM kk)::text[]))),
d1 AS (DELETE FROM session_dependencies WHERE session_id = ANY ((SELECT ids FROM c)::uuid[])),
d2 AS (DELETE FROM session_dependencies WHERE depends_on = ANY ((SELECT ids FROM c)::uuid[]))
DELETE FROM sessions WHERE id = ANY ((SELECT ids FROM c)::uuid[])
"""  # noqa: S608 - constant text

# One statement, a materialized CTE of ids joined by every delete; one DELETE per RBAC direction
# (a row matched twice is deleted once: the second match is skipped by the same command).
MAT_CTE = f"""
WITH c AS MATERIALIZED ({CANDIDATES}),
k AS (DELETE FROM kernels USING c WHERE kernels.session_id = c.id RETURNING kernels.id),
r1 AS (DELETE FROM association_scopes_entities a USING c
       WHERE a.entity_type = 'session' AND a.entity_id = c.id::text),
r2 AS (DELETE FROM association_scopes_entities a USING c
       WHERE a.scope_type = 'session' AND a.scope_id = c.id::text),
r3 AS (DELETE FROM association_scopes_entities a USING k
       WHERE a.entity_type = 'kernel' AND a.entity_id = k.id::text),
r4 AS (DELETE FROM association_scopes_entities a USING k
       WHERE a.scope_type = 'kernel' AND a.scope_id = k.id::text)
DELETE FROM sessions s USING c WHERE s.id = c.id
"""  # noqa: S608 - constant text

# Several statements in one transaction around temp tables of ids (with statistics).
TEMP_TABLE = [
    "CREATE TEMP TABLE c (id uuid PRIMARY KEY) ON COMMIT DROP",
    f"INSERT INTO c {CANDIDATES}",
    "ANALYZE c",
    "CREATE TEMP TABLE k (id text) ON COMMIT DROP",
    "WITH d AS (DELETE FROM kernels USING c WHERE kernels.session_id = c.id RETURNING kernels.id)"
    " INSERT INTO k SELECT id::text FROM d",
    "ANALYZE k",
    "DELETE FROM association_scopes_entities a USING c"
    " WHERE a.entity_type = 'session' AND a.entity_id = c.id::text",
    "DELETE FROM association_scopes_entities a USING c"
    " WHERE a.scope_type = 'session' AND a.scope_id = c.id::text",
    "DELETE FROM association_scopes_entities a USING k"
    " WHERE a.entity_type = 'kernel' AND a.entity_id = k.id",
    "DELETE FROM association_scopes_entities a USING k"
    " WHERE a.scope_type = 'kernel' AND a.scope_id = k.id",
    "DELETE FROM sessions s USING c WHERE s.id = c.id",
]

LOGS = """
DELETE FROM audit_logs WHERE id IN (
  SELECT id FROM audit_logs WHERE created_at < $1 ORDER BY created_at, id LIMIT $2
  FOR UPDATE SKIP LOCKED)
"""


def dsn(url: str) -> str:
    """asyncpg wants a plain postgresql:// URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


Floor = Callable[[asyncpg.Connection, datetime, int], Awaitable[None]]


def sessions_floor(variant: str) -> Floor:
    """One transaction on an open connection (connecting is not part of the timed work)."""
    async def run(conn: asyncpg.Connection, before: datetime, limit: int) -> None:
        async with conn.transaction():
            if variant == "temp_table":
                for i, sql in enumerate(TEMP_TABLE):
                    await conn.execute(sql, *((before, limit) if i == 1 else ()))
            else:
                sql = {"any_array": ANY_ARRAY, "explicit": EXPLICIT, "mat_cte": MAT_CTE}[variant]
                await conn.execute(sql, before, limit)
    return run


SESSION_FLOORS = ("any_array", "explicit", "mat_cte", "temp_table")


async def logs_floor(conn: asyncpg.Connection, before: datetime, limit: int) -> None:
    async with conn.transaction():
        await conn.execute(LOGS, before, limit)
