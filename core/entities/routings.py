"""Routings that ended (terminated, failed_to_start), by `updated_at`, as the platform's
`deployments` category.

A session names its routing in `replica_id` (ON DELETE SET NULL): for a session that ended
(TERMINATED, CANCELLED, ERROR) the prune sets it NULL (declared, counted as updated); a live
session's routing is kept. A routing's session is RESTRICT the other way round: a session can
only be pruned once its routings are gone, so this entity runs before `sessions` and
`endpoints`. RBAC: 26.8 association rows (the routing as entity of its endpoint); 26.9 has no
node for routings. Route history names it without a foreign key (Mention).
"""

from __future__ import annotations

from core.backendai.facts import ROUTING_TERMINAL, SESSION_TERMINAL
from core.backendai.rbac import rbac
from core.backendai.schema import Schema
from core.backendai.variants import per_release, variant
from core.repository.pruner import Blocker, Mention, Pruner, SetNull

NAME = "routings"
CATEGORY = "deployments"


def declare(s: Schema) -> Pruner:
    r, ss = s.routings, s.sessions
    return variant(
        s.model, name=NAME, table=r, terminal=r.c.status.in_(ROUTING_TERMINAL),
        timestamp="updated_at",
        blockers=(Blocker(ss, on="replica_id", where=ss.c.status.not_in(SESSION_TERMINAL),
                          reason="the current replica of a session that is not terminated"),),
        set_null=(SetNull(ss, on="replica_id"),),
        links=rbac(s, r),
        mentions=(Mention(s.route_history, "route_id"),),
        description="Terminated or failed routings no live session points at")


VARIANTS: tuple[Pruner, ...] = per_release(declare)
