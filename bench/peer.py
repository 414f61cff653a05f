"""The prior design, for comparison: ids come back to Python, then go out again as IN (...) lists
with one bind parameter per id, chunked below asyncpg's 32,767-parameter cap."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from core.reference_schema import association_scopes_entities as rbac
from core.reference_schema import kernels, session_dependencies, sessions
from core.registry import get
from core.repository.pruner import sweep
from core.repository.pruner.planner import current_plan
from core.repository.pruner.statements import candidates
from core.settings import PruneSettings

SETTINGS = PruneSettings(max_limit=10_000_000)
CHUNK = 16_000  # two IN lists of this size still fit under 32,767 parameters


def _chunks(ids: list[Any]) -> list[list[Any]]:
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]


async def peer_prune(engine: AsyncEngine, before: datetime, limit: int) -> int:
    pruner = get("sessions")
    req = sweep(pruner, before=before, limit=limit, settings=SETTINGS)
    async with engine.begin() as conn:
        # the library's own candidate query (the prior design differs in what follows it)
        plan = await current_plan(conn, pruner)
        q = candidates(plan, req).with_for_update(of=sessions, skip_locked=True)
        ids = [r.k0 for r in await conn.execute(q)]
        kernel_ids: list[str] = []
        for part in _chunks(ids):
            got = await conn.execute(sa.delete(kernels).where(kernels.c.session_id.in_(part))
                                     .returning(kernels.c.id))
            kernel_ids += [str(r.id) for r in got]
            await conn.execute(sa.delete(session_dependencies).where(sa.or_(
                session_dependencies.c.session_id.in_(part),
                session_dependencies.c.depends_on.in_(part))))
        for etype, keys in (("session", [str(i) for i in ids]), ("kernel", kernel_ids)):
            for part in _chunks(keys):
                await conn.execute(sa.delete(rbac).where(sa.or_(
                    sa.and_(rbac.c.entity_type == etype, rbac.c.entity_id.in_(part)),
                    sa.and_(rbac.c.scope_type == etype, rbac.c.scope_id.in_(part)))))
        for part in _chunks(ids):
            await conn.execute(sa.delete(sessions).where(sessions.c.id.in_(part)))
    return len(ids)
