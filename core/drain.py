"""Drain: a backlog pruned in capped batches, each its own journaled transaction.

The cutoff is frozen once (in the request), so rows that age in while the drain runs are not
chased and the drain always ends.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa

from core import errors, export
from core.db import Database, transaction
from core.operations import check_operator, check_reason, prune
from core.repository.pruner import SweepRequest
from core.repository.pruner.planner import current_plan
from core.repository.pruner.statements import candidates
from core.settings import PruneSettings

KEEP_IDS_IN_MEMORY = 100_000  # a drain spills ids to a CSV file beyond this


class Cancel(Protocol):
    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class DrainProgress:
    batches: int
    done: int
    estimated_total: int
    last_batch: int


@dataclass
class DrainResult:
    entity: str
    drain_id: str
    cutoff: datetime
    batch_size: int
    batches: int = 0
    count: int = 0
    deleted: dict[str, int] = field(default_factory=dict)
    run_ids: list[int] = field(default_factory=list)
    ids: list[Any] | None = field(default_factory=list)  # None once spilled to ids_file
    ids_file: Path | None = None
    stopped: str = "done"  # done | max_batches | max_seconds | cancelled | failed
    error: str | None = None
    estimated_total: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "drain_id": self.drain_id, "entity": self.entity, "cutoff": self.cutoff.isoformat(),
            "batch_size": self.batch_size, "batches": self.batches, "count": self.count,
            "deleted": self.deleted, "run_ids": self.run_ids, "stopped": self.stopped,
            "error": self.error, "ids_file": str(self.ids_file) if self.ids_file else None,
            "ids": None if self.ids is None else [str(i) for i in self.ids],
        }


async def estimate(db: Database, req: SweepRequest) -> int:
    """How many rows qualify right now, whatever the limit (counted in SQL, no locks)."""
    async with transaction(db, f"counting {req.pruner.name} candidates") as conn:
        plan = await current_plan(conn, req.pruner)
        q = sa.select(sa.func.count()).select_from(
            candidates(plan, req, limited=False).subquery())
        return int((await conn.execute(q)).scalar_one())


def _check_bounds(max_batches: Any, max_seconds: Any, pause_seconds: Any) -> None:
    for name, value in (("max_batches", max_batches), ("max_seconds", max_seconds)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or value <= 0):
            raise errors.InvalidArgument(f"{name} must be a positive number")
    if isinstance(pause_seconds, bool) or not isinstance(pause_seconds, int | float) or not (
            0 <= pause_seconds <= 3600):
        raise errors.InvalidArgument("pause_seconds must be between 0 and 3600")


async def drain(
    db: Database,
    req: SweepRequest,
    *,
    max_batches: int | None = None,
    max_seconds: float | None = None,
    pause_seconds: float = 0.0,
    progress: Callable[[DrainProgress], None | Awaitable[None]] | None = None,
    cancel: Cancel | None = None,
    ids_file: Path | str | None = None,
    keep_ids_in_memory: int = KEEP_IDS_IN_MEMORY,
    operator: str | None = None,
    reason: str = "",
    settings: PruneSettings | None = None,
) -> DrainResult:
    """Prune `req`'s backlog in batches of `req.limit`, each its own journaled transaction.

    Ends when a batch comes back short, at `max_batches` / `max_seconds`, or when
    `cancel.is_set()` between batches. A failed batch stops the drain (`stopped == "failed"`,
    `error` says why); batches already committed stay committed (and journaled). Ids beyond
    `keep_ids_in_memory` are streamed to a CSV file (`ids_file`, or a temp file)."""
    _check_bounds(max_batches, max_seconds, pause_seconds)
    operator = check_operator(operator)
    reason = check_reason(reason)
    batch_size = req.limit
    result = DrainResult(entity=req.pruner.name, drain_id=str(uuid.uuid4()), cutoff=req.before,
                         batch_size=batch_size)
    result.estimated_total = await estimate(db, req)
    # What this drain can reach: the backlog, or less when bounded by batches.
    target = result.estimated_total if max_batches is None else min(
        result.estimated_total, int(max_batches) * batch_size)
    sink = export.IdsSink(req.pruner.name, Path(ids_file) if ids_file else None,
                          keep_ids_in_memory)
    started = time.monotonic()
    try:
        while True:
            if cancel is not None and cancel.is_set():
                result.stopped = "cancelled"
                break
            try:
                batch = await prune(db, req, operator=operator, reason=reason,
                                    drain_id=result.drain_id, settings=settings)
            except errors.PrunerError as exc:
                result.stopped, result.error = "failed", str(exc)
                break
            result.batches += 1
            result.count += batch.count
            for table, n in batch.deleted.items():
                result.deleted[table] = result.deleted.get(table, 0) + n
            assert batch.run_id is not None
            result.run_ids.append(batch.run_id)
            sink.add(batch.run_id, batch.ids, datetime.now(UTC))
            if progress is not None:
                step = progress(DrainProgress(result.batches, result.count,
                                              max(target, result.count), batch.count))
                if inspect.isawaitable(step):
                    await step
            if batch.count < batch_size:
                break
            if max_batches is not None and result.batches >= max_batches:
                result.stopped = "max_batches"
                break
            if max_seconds is not None and time.monotonic() - started >= max_seconds:
                result.stopped = "max_seconds"
                break
            if pause_seconds:
                await asyncio.sleep(pause_seconds)
    finally:
        sink.close()
    result.ids, result.ids_file = sink.ids, sink.path
    return result
