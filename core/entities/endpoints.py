"""Destroyed endpoints (deployments), by `destroyed_at`, with their revisions, replica groups,
policies and tokens, as the platform's `deployments` category.

An endpoint keeps while any routing still names it: terminal routings are pruned first by
`routings` (the platform's own order: routings, then endpoints), and a live routing must never
go with an endpoint. Replica groups, deployment policies and auto-scaling rules cascade
(catalog, counted); a routing of another endpoint that points at one of its replica groups
blocks it (catalog: ON DELETE SET NULL would change it). 26.9 revisions and tokens cascade too;
in 26.8 they have no foreign key and are Links (counted), like the FK-less auto-scaling
policies in both. RBAC: 26.8 association rows with the endpoint as scope (and the tokens'
rows), 26.9 the deployment's node. Deployment, route and replica-group history name it without
a foreign key (Mentions).
"""

from __future__ import annotations

import sqlalchemy as sa

from core.backendai.facts import ENDPOINT_DESTROYED, R26_8
from core.backendai.rbac import rbac
from core.backendai.schema import Schema
from core.backendai.variants import per_release, variant
from core.repository.pruner import Blocker, Link, Mention, Pruner

NAME = "endpoints"
CATEGORY = "deployments"


def declare(s: Schema) -> Pruner:
    e = s.endpoints
    links = [Link(s.deployment_auto_scaling_policies, "endpoint", rbac=False)]
    if s.model == R26_8:  # no foreign key to endpoints in 26.8
        links += [Link(s.deployment_revisions, "endpoint", rbac=False),
                  Link(s.endpoint_tokens, "endpoint", rbac=False)]
    return variant(
        s.model, name=NAME, table=e, terminal=e.c.lifecycle_stage == ENDPOINT_DESTROYED,
        timestamp="destroyed_at",
        # where=true: also a delete-time guard on the (cascading) routings step
        blockers=(Blocker(s.routings, on="endpoint", where=sa.true(),
                          reason="still has routings (prune terminal routings first: "
                                 "`routings`)"),),
        links=(*links, *rbac(s, e, s.endpoint_tokens)),
        mentions=(Mention(s.deployment_history, "deployment_id"),
                  Mention(s.route_history, "deployment_id"),
                  Mention(s.replica_group_history, "deployment_id"),
                  Mention(s.replica_group_history, "replica_group_id", of=s.replica_groups)),
        description="Destroyed endpoints with their revisions, replica groups, tokens and RBAC "
                    "rows")


VARIANTS: tuple[Pruner, ...] = per_release(declare)
