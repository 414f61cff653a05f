"""Session groups no replica group uses, by `created_at`, as the platform's `deployments`
category: a replica group's reference (NO ACTION) blocks from the catalog. A session in the
group loses the reference (ON DELETE SET NULL, declared, counted as updated) when it ended; a
live session keeps the group. RBAC: 26.9 the group's node; 26.8 has none."""

from __future__ import annotations

import sqlalchemy as sa

from core.backendai.facts import SESSION_TERMINAL
from core.backendai.rbac import rbac
from core.backendai.schema import Schema
from core.backendai.variants import per_release, variant
from core.repository.pruner import Blocker, Pruner, SetNull

NAME = "session_groups"
CATEGORY = "deployments"


def declare(s: Schema) -> Pruner:
    g, ss = s.session_groups, s.sessions
    return variant(
        s.model, name=NAME, table=g,
        terminal=sa.true(),  # "unreferenced" is decided by the replica groups' FK (catalog)
        timestamp="created_at",
        blockers=(Blocker(ss, on="session_group_id", where=ss.c.status.not_in(SESSION_TERMINAL),
                          reason="a session that is not terminated belongs to it"),),
        set_null=(SetNull(ss, on="session_group_id"),),
        links=rbac(s, g),
        description="Session groups no replica group or live session uses")


VARIANTS: tuple[Pruner, ...] = per_release(declare)
