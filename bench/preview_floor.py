"""The single aggregate statement a DBA would write for a preview: range, counts per age bin
(candidates, blocked, per blocker), cascade counts of the first `limit` candidates and a sample
page. The bin width is a parameter (the DBA picks one; we pass the width the library chose)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg

SESSIONS = """
WITH aged AS (
  SELECT s.id, s.terminated_at AS ts,
         EXISTS (SELECT 1 FROM routings r WHERE r.session = s.id) AS b1,
         EXISTS (SELECT 1 FROM kernels k WHERE k.session_id = s.id
                 AND k.status NOT IN ('TERMINATED', 'CANCELLED')) AS b2
  FROM sessions s
  WHERE s.status IN ('TERMINATED', 'CANCELLED') AND s.terminated_at < $1),
cand AS (
  SELECT s.id, s.terminated_at AS ts FROM sessions s
  WHERE s.status IN ('TERMINATED', 'CANCELLED') AND s.terminated_at < $1
    AND NOT EXISTS (SELECT 1 FROM routings r WHERE r.session = s.id)
    AND NOT EXISTS (SELECT 1 FROM kernels k WHERE k.session_id = s.id
                    AND k.status NOT IN ('TERMINATED', 'CANCELLED'))),
rng AS (SELECT (SELECT ts FROM cand ORDER BY ts, id LIMIT 1) AS lo,
               (SELECT ts FROM cand ORDER BY ts DESC, id DESC LIMIT 1) AS hi),
bins AS (
  SELECT date_bin($3, ts, (SELECT lo FROM rng)) AS bin,
         count(*) FILTER (WHERE NOT (b1 OR b2)) AS n, count(*) FILTER (WHERE b1 OR b2) AS blocked,
         count(*) FILTER (WHERE b1) AS b1, count(*) FILTER (WHERE b2) AS b2
  FROM aged GROUP BY 1),
first AS MATERIALIZED (SELECT id FROM cand ORDER BY ts, id LIMIT $2),
fa AS MATERIALIZED (SELECT count(*) AS n, array_agg(id) AS ids, array_agg(id::text) AS tids
                    FROM first),
ks AS MATERIALIZED (SELECT count(*) AS n, array_agg(k.id::text) AS tids FROM kernels k
                    WHERE k.session_id = ANY ((SELECT ids FROM fa)::uuid[])),
casc AS (
  SELECT (SELECT n FROM fa) AS sessions, (SELECT n FROM ks) AS kernels,
         (SELECT count(*) FROM session_dependencies d
          WHERE d.session_id = ANY ((SELECT ids FROM fa)::uuid[])
             OR d.depends_on = ANY ((SELECT ids FROM fa)::uuid[])) AS deps,
         (SELECT count(*) FROM association_scopes_entities a
          WHERE (a.entity_type = 'session' AND a.entity_id = ANY ((SELECT tids FROM fa)::text[]))
             OR (a.scope_type = 'session' AND a.scope_id = ANY ((SELECT tids FROM fa)::text[]))
             OR (a.entity_type = 'kernel' AND a.entity_id = ANY ((SELECT tids FROM ks)::text[]))
             OR (a.scope_type = 'kernel' AND a.scope_id = ANY ((SELECT tids FROM ks)::text[]))
         ) AS rbac),
page AS (SELECT s.* FROM sessions s JOIN (SELECT id, ts FROM cand ORDER BY ts, id LIMIT $4) c
         ON c.id = s.id ORDER BY c.ts, c.id)
SELECT rng.lo, rng.hi, casc.*,
       (SELECT json_agg(bins ORDER BY bin) FROM bins) AS histogram,
       (SELECT json_agg(page) FROM page) AS sample
FROM rng, casc
"""

LOGS = """
WITH rng AS (SELECT min(created_at) AS lo, max(created_at) AS hi FROM audit_logs
             WHERE created_at < $1),
bins AS (SELECT date_bin($3, created_at, (SELECT lo FROM rng)) AS bin, count(*) AS n
         FROM audit_logs WHERE created_at < $1 GROUP BY 1),
first AS (SELECT id FROM audit_logs WHERE created_at < $1 ORDER BY created_at, id LIMIT $2),
page AS (SELECT * FROM audit_logs WHERE created_at < $1 ORDER BY created_at, id LIMIT $4)
SELECT rng.lo, rng.hi, (SELECT count(*) FROM first) AS audit_logs,
       (SELECT json_agg(bins ORDER BY bin) FROM bins) AS histogram,
       (SELECT json_agg(page) FROM page) AS sample
FROM rng
"""

SQL = {"sessions": SESSIONS, "audit_logs": LOGS}


async def preview_floor(conn: asyncpg.Connection, entity: str, before: datetime, limit: int,
                        width: timedelta, sample: int) -> dict[str, Any]:
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        row = await conn.fetchrow(SQL[entity], before, limit, width, sample)
    return dict(row)
