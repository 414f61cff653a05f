"""Hand-written SQL floors for the real 26.9 schema: what a DBA who knows it would type.

Each floor is one statement in one transaction and deletes exactly the rows the 26.9 `sessions`
(or `audit_logs`) pruner deletes: the same candidates (TERMINATED / CANCELLED, `terminated_at`
before the cutoff, no routing, no kernel outside ERROR / TERMINATED / CANCELLED, oldest first by
`(terminated_at, id)`, the same LIMIT, FOR UPDATE SKIP LOCKED), their kernels, and the RBAC graph
the plan reaches: the session's node, the nodes of the roles scoped to it and of the shares
naming it, and the FK-less `entity_labels` of all three. Everything else hangs off those rows by
ON DELETE CASCADE. (Correct for data in which no role or share node is itself the scope of a
role or the subject of a share, as in the bench data; the pruner's plan follows such chains one
turn further, `Pruner.max_repeat`, and the fingerprint check would say so.)

Two ways of writing it; the faster one in a run is the floor:

* `cascade`: delete the kernels (their FK has no ON DELETE), the nodes, the labels and the
  sessions; PostgreSQL's cascades take the rest, one trigger query per deleted parent row;
* `explicit`: delete every table of the tree in the same statement, children first, each with
  one `= ANY(array)` / semi-join pass, as the pruner does (the cascade triggers still fire per
  parent row, and then find nothing left to delete).

What a floor may skip is bookkeeping the library owes its caller: per-table counts, the ids
returned to Python, the journal.
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
                  AND k.status NOT IN ('TERMINATED', 'CANCELLED', 'ERROR'))
ORDER BY s.terminated_at, s.id LIMIT $2
FOR UPDATE OF s SKIP LOCKED
"""

# The ids every variant starts from: sessions, the roles scoped to them, the shares naming them.
_IDS = f"""
c AS MATERIALIZED (SELECT coalesce(array_agg(id), '{{}}') AS ids FROM ({CANDIDATES}) x),
ro AS MATERIALIZED (
  SELECT coalesce(array_agg(r.id), '{{}}') AS ids FROM roles r
  WHERE r.scope_type = 'session' AND r.scope_id = ANY ((SELECT ids FROM c)::uuid[])),
sh AS MATERIALIZED (
  SELECT coalesce(array_agg(h.id), '{{}}') AS ids FROM entity_shares h
  WHERE (h.target_entity_type = 'session'
         AND h.target_entity_id = ANY ((SELECT ids FROM c)::uuid[]))
     OR (h.recipient_entity_type = 'session'
         AND h.recipient_entity_id = ANY ((SELECT ids FROM c)::uuid[])))"""  # noqa: S608

_NODE_MATCH = """
     (x.entity_type = 'session' AND x.entity_id = ANY ((SELECT ids FROM c)::uuid[]))
  OR (x.entity_type = 'role' AND x.entity_id = ANY ((SELECT ids FROM ro)::uuid[]))
  OR (x.entity_type = 'entity_share' AND x.entity_id = ANY ((SELECT ids FROM sh)::uuid[]))"""

CASCADE = f"""
WITH {_IDS},
k AS (DELETE FROM kernels WHERE session_id = ANY ((SELECT ids FROM c)::uuid[])),
n AS (DELETE FROM virtual_entities x WHERE {_NODE_MATCH}),
l AS (DELETE FROM entity_labels x WHERE {_NODE_MATCH})
DELETE FROM sessions WHERE id = ANY ((SELECT ids FROM c)::uuid[])
"""  # noqa: S608 - constant text

EXPLICIT = f"""
WITH {_IDS},
nodes AS MATERIALIZED (
  SELECT coalesce(array_agg(x.id), '{{}}') AS ids FROM virtual_entities x WHERE {_NODE_MATCH}),
k AS (DELETE FROM kernels WHERE session_id = ANY ((SELECT ids FROM c)::uuid[]) RETURNING id),
kk AS MATERIALIZED (SELECT coalesce(array_agg(id), '{{}}') AS ids FROM k),
ra AS (DELETE FROM resource_allocations WHERE kernel_id = ANY ((SELECT ids FROM kk)::uuid[])),
va AS (DELETE FROM vfolder_attachment WHERE kernel = ANY ((SELECT ids FROM kk)::uuid[])),
sd AS (DELETE FROM session_dependencies
       WHERE session_id = ANY ((SELECT ids FROM c)::uuid[])
          OR depends_on = ANY ((SELECT ids FROM c)::uuid[])),
si AS (DELETE FROM session_idle_checks WHERE session_id = ANY ((SELECT ids FROM c)::uuid[])),
m AS (DELETE FROM entity_memberships
      WHERE virtual_entity_id = ANY ((SELECT ids FROM nodes)::uuid[])
         OR member_entity_id = ANY ((SELECT ids FROM nodes)::uuid[]) RETURNING id),
mc AS (DELETE FROM entity_membership_caps WHERE membership_id IN (SELECT id FROM m)
       RETURNING id),
mf AS (DELETE FROM entity_membership_fields WHERE cap_id IN (SELECT id FROM mc)),
b AS (DELETE FROM scope_bindings
      WHERE virtual_entity_id = ANY ((SELECT ids FROM nodes)::uuid[])
         OR scope_entity_id = ANY ((SELECT ids FROM nodes)::uuid[])),
dsh AS (DELETE FROM entity_shares WHERE id = ANY ((SELECT ids FROM sh)::uuid[])),
p AS (DELETE FROM permissions WHERE role_id = ANY ((SELECT ids FROM ro)::uuid[]) RETURNING id),
pf AS (DELETE FROM permission_fields WHERE permission_id IN (SELECT id FROM p)),
ur AS (DELETE FROM user_roles WHERE role_id = ANY ((SELECT ids FROM ro)::uuid[])),
dro AS (DELETE FROM roles WHERE id = ANY ((SELECT ids FROM ro)::uuid[])),
n AS (DELETE FROM virtual_entities WHERE id = ANY ((SELECT ids FROM nodes)::uuid[])),
l AS (DELETE FROM entity_labels x WHERE {_NODE_MATCH})
DELETE FROM sessions WHERE id = ANY ((SELECT ids FROM c)::uuid[])
"""  # noqa: S608 - constant text

# audit_log_scopes go by ON DELETE CASCADE (its audit_log_id is indexed upstream).
LOGS = """
DELETE FROM audit_logs WHERE id = ANY (ARRAY(
  SELECT id FROM audit_logs WHERE created_at < $1 ORDER BY created_at, id LIMIT $2
  FOR UPDATE SKIP LOCKED))
"""

SESSION_FLOORS = {"cascade": CASCADE, "explicit": EXPLICIT}
LOG_FLOORS = {"any_array": LOGS}

Floor = Callable[[asyncpg.Connection, datetime, int], Awaitable[None]]


def floor(sql: str) -> Floor:
    """One transaction on an open connection (connecting is not part of the timed work)."""
    async def run(conn: asyncpg.Connection, before: datetime, limit: int) -> None:
        async with conn.transaction():
            await conn.execute(sql, before, limit)
    return run
