"""Parked rows: rows a drain could not prune (a row-specific failure that retries did not cure,
such as a child set too big for one statement), set aside with the reason so the drain goes on.

They stay in their table untouched. `pruner parked` lists them; a successful retry on request
releases them (their parked entry is purged).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from core.db import Database, transaction
from core.journal.tables import parked
from core.repository.purger import Purger, execute_purger


@dataclass(frozen=True)
class Parked:
    id: int
    entity: str
    row_key: str
    reason: str
    detail: dict[str, Any]
    drain_id: str | None
    parked_at: datetime

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["parked_at"] = self.parked_at.isoformat()
        return d


async def park(db: Database, entity: str, row_key: str, reason: str, *,
               detail: dict[str, Any] | None = None, drain_id: str | None = None) -> None:
    """Set a row aside (again: the newest reason wins)."""
    stmt = insert(parked).values(entity=entity, row_key=row_key, reason=reason[:4000],
                                 detail=detail or {}, drain_id=drain_id)
    stmt = stmt.on_conflict_do_update(
        constraint="uq_prune_parked_row",
        set_={"reason": stmt.excluded.reason, "detail": stmt.excluded.detail,
              "drain_id": stmt.excluded.drain_id, "parked_at": sa.func.clock_timestamp()})
    async with transaction(db, "parking a row") as conn:
        await conn.execute(stmt)


async def listing(db: Database, entity: str | None = None, limit: int = 1_000) -> list[Parked]:
    q = sa.select(parked).order_by(parked.c.parked_at).limit(limit)
    if entity:
        q = q.where(parked.c.entity == entity)
    async with transaction(db, "reading the parked rows") as conn:
        if (await conn.execute(sa.select(sa.func.to_regclass("pruner.prune_parked")))
                ).scalar() is None:
            return []
        return [Parked(**r._mapping) for r in (await conn.execute(q)).all()]


async def keys(db: Database, entity: str) -> set[str]:
    return {p.row_key for p in await listing(db, entity, limit=100_000)}


async def release(db: Database, entity: str, row_keys: list[str]) -> int:
    """Forget the parked entries of these rows (they were pruned); returns how many."""
    n = 0
    for p in await listing(db, entity, limit=100_000):
        if p.row_key in row_keys and await execute_purger(db, Purger(parked, p.id)) is not None:
            n += 1
    return n
