"""Drains in the journal: one row per drain — its progress, why it stopped, and its stop flag.

The stop flag lives in the database, so any console tab, another console, or `pruner stop`
can ask a drain to stop; the drain reads it between batches. A running drain refreshes its
heartbeat every batch: one whose heartbeat is old lost the process that ran it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from core import errors
from core.db import Database, transaction
from core.journal.tables import drains
from core.repository.creator import Creator, execute_creator
from core.repository.updater import Updater, execute_updater

STATUSES = ("running", "done", "max_batches", "max_seconds", "stopped", "failed")
STALE_AFTER = timedelta(minutes=10)  # no heartbeat for this long: the drain's process is gone


@dataclass(frozen=True)
class Drain:
    id: str
    entity: str
    cutoff: datetime
    batch_size: int
    max_batches: int | None
    status: str
    stop_requested: bool
    operator: str
    reason: str
    started_at: datetime
    heartbeat_at: datetime
    finished_at: datetime | None
    estimated: int
    batches: int
    count: int
    busy: int
    parked: int
    retries: int
    deleted: dict[str, int]
    position: Any
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for k in ("cutoff", "started_at", "heartbeat_at", "finished_at"):
            d[k] = d[k].isoformat() if d[k] else None
        return d

    def abandoned(self, now: datetime) -> bool:
        """Still marked running, but nothing has heard from it for STALE_AFTER."""
        return self.status == "running" and now - self.heartbeat_at > STALE_AFTER


async def start(db: Database, drain_id: str, *, entity: str, cutoff: datetime, batch_size: int,
                max_batches: int | None, operator: str, reason: str, estimated: int) -> None:
    async with transaction(db, "recording the drain") as conn:
        await execute_creator(conn, Creator(drains, {
            "id": drain_id, "entity": entity, "cutoff": cutoff, "batch_size": batch_size,
            "max_batches": max_batches, "operator": operator, "reason": reason,
            "estimated": estimated}, returning=("id",)))


async def progress(db: Database, drain_id: str, **values: Any) -> bool:
    """Record progress (counts, position, …) and the heartbeat; returns whether a stop was
    requested."""
    async with transaction(db, "recording the drain's progress") as conn:
        row = await execute_updater(conn, Updater(
            drains, drain_id, {**values, "heartbeat_at": sa.func.clock_timestamp()}))
    return bool(row is not None and row.stop_requested)


async def finish(db: Database, drain_id: str, status: str, error: str | None = None,
                 **values: Any) -> None:
    assert status in STATUSES
    async with transaction(db, "recording the end of the drain") as conn:
        await execute_updater(conn, Updater(drains, drain_id, {
            **values, "status": status, "error": error,
            "finished_at": sa.func.clock_timestamp(),
            "heartbeat_at": sa.func.clock_timestamp()}))


async def request_stop(db: Database, drain_id: Any) -> Drain:
    """Ask a running drain to stop after its current batch (from anywhere). Raises
    InvalidArgument for an unknown drain or one that has already ended."""
    drain = await get(db, drain_id)
    if drain.status != "running":
        raise errors.InvalidArgument(f"drain {drain.id} has already ended ({drain.status})")
    async with transaction(db, "asking the drain to stop") as conn:
        await execute_updater(conn, Updater(drains, drain.id, {"stop_requested": True}))
    return await get(db, drain.id)


async def stop_requested(db: Database, drain_id: str) -> bool:
    async with transaction(db, "reading the drain's stop flag") as conn:
        return bool((await conn.execute(sa.select(drains.c.stop_requested)
                                        .where(drains.c.id == drain_id))).scalar())


async def get(db: Database, drain_id: Any) -> Drain:
    if not isinstance(drain_id, str) or not 0 < len(drain_id) <= 36:
        raise errors.InvalidArgument(f"not a drain id: {str(drain_id)[:40]!r}")
    async with transaction(db, "reading the drains") as conn:
        rows = (await conn.execute(sa.select(drains).where(
            drains.c.id.startswith(drain_id, autoescape=True)).limit(2))).all()
    if not rows:
        raise errors.InvalidArgument(f"no drain {drain_id} in the journal")
    if len(rows) > 1:
        raise errors.InvalidArgument(f"{drain_id} names more than one drain; give more of its id")
    return Drain(**rows[0]._mapping)


async def listing(db: Database, *, running: bool | None = None, entity: str | None = None,
                  limit: int = 50) -> list[Drain]:
    """The newest drains first (only running ones, or only ended ones, when asked)."""
    q = sa.select(drains).order_by(drains.c.started_at.desc()).limit(limit)
    if running is not None:
        q = q.where((drains.c.status == "running") if running else
                    (drains.c.status != "running"))
    if entity:
        q = q.where(drains.c.entity == entity)
    async with transaction(db, "reading the drains") as conn:
        exists = (await conn.execute(sa.select(sa.func.to_regclass("pruner.prune_drains")))
                  ).scalar()
        if exists is None:
            return []
        return [Drain(**r._mapping) for r in (await conn.execute(q)).all()]
