"""Replica groups that ended (drained, failed), by `updated_at`, as the platform's `deployments`
category.

A routing names its replica group (ON DELETE SET NULL): a routing that ended loses the reference
(declared, counted as updated); a live routing keeps the group. An endpoint that is not
destroyed and names the group as its primary or target group (no foreign key) keeps it too.
Replica-group history names it without a foreign key (Mention).
"""

from __future__ import annotations

from core.backendai.facts import ENDPOINT_DESTROYED, REPLICA_GROUP_TERMINAL, ROUTING_TERMINAL
from core.backendai.schema import Schema
from core.backendai.variants import per_release, variant
from core.repository.pruner import Blocker, Mention, Pruner, SetNull

NAME = "replica_groups"
CATEGORY = "deployments"


def declare(s: Schema) -> Pruner:
    g, r, e = s.replica_groups, s.routings, s.endpoints
    live = e.c.lifecycle_stage != ENDPOINT_DESTROYED
    return variant(
        s.model, name=NAME, table=g, terminal=g.c.lifecycle.in_(REPLICA_GROUP_TERMINAL),
        timestamp="updated_at",
        blockers=(
            Blocker(r, on="replica_group_id", where=r.c.status.not_in(ROUTING_TERMINAL),
                    reason="a routing that is not terminated belongs to it"),
            Blocker(e, on="primary_replica_group_id", where=live,
                    reason="the primary replica group of an endpoint that is not destroyed"),
            Blocker(e, on="target_replica_group_id", where=live,
                    reason="the target replica group of an endpoint that is not destroyed"),
        ),
        set_null=(SetNull(r, on="replica_group_id"),),
        mentions=(Mention(s.replica_group_history, "replica_group_id"),),
        description="Drained or failed replica groups no live routing or endpoint uses")


VARIANTS: tuple[Pruner, ...] = per_release(declare)
