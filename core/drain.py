"""Drain: a backlog pruned in capped batches, each its own journaled transaction, one drain id.

The cutoff is frozen once (in the request) and so is the newest candidate at the start: the
drain walks a keyset window over (timestamp, *key) from the oldest candidate up to it, so
blocked, busy and set-aside rows are passed once, rows that arrive behind its position (or
newer than the window) are left for the next run, and the drain always ends — done, at
`max_batches` / `max_seconds`, when a stop is requested (its flag is in the journal, so any
console tab or `pruner stop` can ask), or failed (a permanent error, said in one line).

A batch that fails for a transient reason is retried (`operations.Retry`, journaled). One that
keeps failing for a row-specific reason is narrowed down by halving its size until the row at
fault is alone; that row is parked (journal `prune_parked`, with the reason) and the drain goes
on past it.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa

from core import errors, export, journal
from core.db import Database, transaction
from core.operations import Retry, check_operator, check_reason, journal_ready, prune
from core.preview import cascade_counts
from core.repository.pruner import SweepRequest
from core.repository.pruner.planner import current_plan
from core.repository.pruner.request import coerce_ids
from core.repository.pruner.statements import Window, candidates
from core.settings import PruneSettings

KEEP_IDS_IN_MEMORY = 100_000  # a drain spills ids to a CSV file beyond this
# Failures that no retry cures and that say nothing about one row: the drain stops on them.
FATAL = (errors.PermissionDenied, errors.SchemaMissing, errors.DefinitionError,
         errors.DatabaseUnavailable, errors.Cancelled)


class Cancel(Protocol):
    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class DrainProgress:
    batches: int
    done: int
    estimated_total: int
    last_batch: int
    busy: int = 0
    parked: int = 0
    entity: str = ""


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
    stopped: str = "done"  # done | max_batches | max_seconds | stopped | failed
    error: str | None = None
    estimated_total: int = 0
    busy: int = 0  # parents held elsewhere when their batch ran: left for the next run
    parked: list[str] = field(default_factory=list)  # keys set aside, with a journal entry

    def to_dict(self) -> dict[str, Any]:
        return {
            "drain_id": self.drain_id, "entity": self.entity, "cutoff": self.cutoff.isoformat(),
            "batch_size": self.batch_size, "batches": self.batches, "count": self.count,
            "deleted": self.deleted, "run_ids": self.run_ids, "stopped": self.stopped,
            "error": self.error, "ids_file": str(self.ids_file) if self.ids_file else None,
            "ids": None if self.ids is None else [journal.id_text(i) for i in self.ids],
            "busy": self.busy, "parked": self.parked,
        }


async def estimate(db: Database, req: SweepRequest) -> int:
    """How many rows qualify right now, whatever the limit (counted in SQL, no locks)."""
    async with transaction(db, f"counting {req.pruner.name} candidates") as conn:
        plan = await current_plan(conn, req.pruner)
        q = sa.select(sa.func.count()).select_from(
            candidates(plan, req, limited=False).subquery())
        return int((await conn.execute(q)).scalar_one())


async def _edge(db: Database, req: SweepRequest, window: Window | None, newest: bool,
                ) -> tuple[Any, ...] | None:
    """The (timestamp, *key) of the oldest (or newest) candidate in the window, if any."""
    async with transaction(db, f"reading {req.pruner.name} candidates") as conn:
        plan = await current_plan(conn, req.pruner)
        q = candidates(plan, req, limited=False, window=window)
        if newest:
            p = req.pruner
            q = q.order_by(None).order_by(p.ts.desc(), *(k.desc() for k in p.key))
        row = (await conn.execute(q.limit(1))).first()
    if row is None:
        return None
    m = row._mapping
    return (m["ts"], *(m[f"k{i}"] for i in range(len(req.pruner.key))))


def _check_bounds(max_batches: Any, max_seconds: Any, pause_seconds: Any) -> None:
    for name, value in (("max_batches", max_batches), ("max_seconds", max_seconds)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or value <= 0):
            raise errors.InvalidArgument(f"{name} must be a positive number")
    if isinstance(pause_seconds, bool) or not isinstance(pause_seconds, int | float) or not (
            0 <= pause_seconds <= 3600):
        raise errors.InvalidArgument("pause_seconds must be between 0 and 3600")


async def _parked_keys(db: Database, req: SweepRequest) -> tuple[Any, ...]:
    keys = await journal.parked.keys(db, req.pruner.name)
    return tuple(coerce_ids(req.pruner, sorted(keys))) if keys else ()


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
    retry: Retry | None = None,
    drain_id: str | None = None,
) -> DrainResult:
    """Prune `req`'s backlog in batches of `req.limit`, each its own journaled transaction, all
    under one drain id (a row in `pruner.prune_drains`).

    Ends when the window is empty, at `max_batches` / `max_seconds`, when `cancel.is_set()` or
    the drain's stop flag is set (between batches), or on a permanent failure (`stopped ==
    "failed"`, `error` says why in one line). Committed batches stay committed. Ids beyond
    `keep_ids_in_memory` are streamed to a CSV file (`ids_file`, or a temp file); parked rows
    come back in `parked`."""
    _check_bounds(max_batches, max_seconds, pause_seconds)
    operator = check_operator(operator)
    reason = check_reason(reason)
    await journal_ready(db)
    req = replace(req, excluded=req.excluded + await _parked_keys(db, req))
    result = DrainResult(entity=req.pruner.name, drain_id=drain_id or str(uuid.uuid4()),
                         cutoff=req.before, batch_size=req.limit)
    result.estimated_total = await estimate(db, req)
    target = result.estimated_total if max_batches is None else min(
        result.estimated_total, int(max_batches) * req.limit)
    window = Window(None, await _edge(db, req, None, newest=True))
    await journal.drains.start(db, result.drain_id, entity=req.pruner.name, cutoff=req.before,
                               batch_size=req.limit, max_batches=max_batches,
                               operator=operator, reason=reason,
                               estimated=result.estimated_total)
    sink = export.IdsSink(req.pruner.name, Path(ids_file) if ids_file else None,
                          keep_ids_in_memory)
    started = time.monotonic()
    limit = req.limit
    try:
        while window.upto is not None:
            if cancel is not None and cancel.is_set() or \
                    await journal.drains.stop_requested(db, result.drain_id):
                result.stopped = "stopped"
                break
            try:
                batch = await prune(db, replace(req, limit=limit), window=window,
                                    operator=operator, reason=reason, drain_id=result.drain_id,
                                    settings=settings, retry=retry)
            except FATAL as exc:
                result.stopped, result.error = "failed", str(exc)
                break
            except errors.PrunerError as exc:
                if limit > 1:  # narrow the batch down to the row at fault
                    limit = max(1, limit // 2)
                    continue
                at = await _edge(db, req, window, newest=False)
                if at is None:
                    break
                await _park(db, req, result, at, exc, settings)
                window = Window(at, window.upto)
                limit = req.limit
                continue
            taken = batch.count + batch.busy
            _add(result, batch)
            sink.add(batch.run_id or 0, batch.ids, batch.pruned_at or datetime.now().astimezone())
            if batch.position is not None:
                window = Window(batch.position, window.upto)
            stop = await journal.drains.progress(
                db, result.drain_id, batches=result.batches, count=result.count,
                busy=result.busy, parked=len(result.parked), deleted=result.deleted,
                position=_jsonable(window.after))
            if progress is not None:
                step = progress(DrainProgress(result.batches, result.count,
                                              max(target, result.count), batch.count,
                                              result.busy, len(result.parked),
                                              req.pruner.name))
                if inspect.isawaitable(step):
                    await step
            if taken < limit or batch.position == window.upto:
                break  # the window is empty (or its last row was just taken)
            limit = req.limit
            if stop:
                result.stopped = "stopped"
                break
            if max_batches is not None and result.batches >= max_batches:
                result.stopped = "max_batches"
                break
            if max_seconds is not None and time.monotonic() - started >= max_seconds:
                result.stopped = "max_seconds"
                break
            if pause_seconds:
                await asyncio.sleep(pause_seconds)
    except errors.PrunerError as exc:
        result.stopped, result.error = "failed", str(exc)
    finally:
        sink.close()
        result.ids, result.ids_file = sink.ids, sink.path
        try:
            await journal.drains.finish(
                db, result.drain_id, result.stopped, result.error, batches=result.batches,
                count=result.count, busy=result.busy, parked=len(result.parked),
                deleted=result.deleted)
        except errors.PrunerError:
            pass  # the drain's own outcome stands; its journal row stays "running"
    return result


def _add(result: DrainResult, batch: Any) -> None:
    result.batches += 1
    result.count += batch.count
    result.busy += batch.busy
    for table, n in batch.deleted.items():
        result.deleted[table] = result.deleted.get(table, 0) + n
    assert batch.run_id is not None
    result.run_ids.append(batch.run_id)


async def _park(db: Database, req: SweepRequest, result: DrainResult, at: tuple[Any, ...],
                exc: errors.PrunerError, settings: PruneSettings | None) -> None:
    """Set the row at `at` aside with the reason: the error, what PostgreSQL named (table,
    constraint), and how many rows per table a prune of it alone would delete."""
    key = at[1] if len(at) == 2 else tuple(at[1:])
    text = journal.id_text(key)
    detail: dict[str, Any] = {"error": type(exc).__name__, "timestamp": str(at[0]),
                              **exc.diagnostics}
    try:
        detail["children"] = await cascade_counts(
            db, replace(req, ids=tuple(coerce_ids(req.pruner, [text])), limit=1), settings)
    except errors.PrunerError as why:  # the counts are a courtesy: the row is parked anyway
        detail["children_error"] = str(why)
    await journal.parked.park(db, req.pruner.name, text, str(exc), detail=detail,
                              drain_id=result.drain_id)
    result.parked.append(text)


def _jsonable(pos: tuple[Any, ...] | None) -> list[str] | None:
    return None if pos is None else [str(v) for v in pos]


async def retry_parked(db: Database, req: SweepRequest, *, operator: str | None = None,
                       reason: str = "", settings: PruneSettings | None = None,
                       retry: Retry | None = None) -> tuple[Any, list[str]]:
    """Prune parked rows again on request: `req` names them (its ids; each must still
    qualify). Those that went are released from the parked list; returns the prune's result
    and the released keys."""
    if req.ids is None:
        raise errors.InvalidArgument("name the parked rows to retry (ids)")
    result = await prune(db, req, operator=operator, reason=reason or "retry of parked rows",
                         settings=settings, retry=retry)
    gone = [journal.id_text(i) for i in result.ids]
    await journal.parked.release(db, req.pruner.name, gone)
    return result, gone
