"""Operator workflows on top of the Pruner executor, each one journaled.

    prune      one capped sweep (optionally of selected ids, optionally archived)
    rehearse   the exact prune, rolled back: exact per-table counts, nothing changes

A successful prune commits its deletes and its journal rows together; a failed one rolls back and
is then recorded as failed in a transaction of its own. (`core.drain` runs many prunes.)
"""

from __future__ import annotations

import asyncio
import random
import weakref
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from core import errors, journal
from core.db import Database, transaction
from core.repository.pruner import ArchiveTarget, PruneResult, SweepRequest, execute
from core.repository.pruner.statements import Window, local_settings
from core.settings import PruneSettings, default_operator

MAX_REASON = 2_000
MAX_OPERATOR = 128


def check_text(value: Any, name: str, top: int, *, required: bool = False) -> str:
    """Free text for the journal: a str of at most `top` characters, valid UTF-8, no NUL."""
    if not isinstance(value, str):
        raise errors.InvalidArgument(f"{name} must be text, got {type(value).__name__}")
    text: str = value.strip()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise errors.InvalidArgument(f"{name} must be valid UTF-8 text") from None
    if required and not text:
        raise errors.InvalidArgument(f"{name} must not be empty")
    if len(text) > top or "\x00" in text:
        raise errors.InvalidArgument(f"{name} must be at most {top} characters of text")
    return text


def check_operator(operator: Any) -> str:
    operator = default_operator() if operator is None else operator
    return check_text(operator, "operator", MAX_OPERATOR, required=True)


def check_reason(reason: Any) -> str:
    return check_text(reason, "reason", MAX_REASON)


_ready: weakref.WeakSet[AsyncEngine] = weakref.WeakSet()  # engines whose journal exists


async def journal_ready(db: Database) -> None:
    if isinstance(db, AsyncEngine) and db in _ready:
        return
    await journal.ensure_journal(db)
    if isinstance(db, AsyncEngine):
        _ready.add(db)


@dataclass(frozen=True)
class Retry:
    """How a journaled prune retries a transient failure (`PrunerError.transient`): up to
    `attempts` tries in all, waiting a random time up to base·2ⁿ seconds (capped at `cap`)
    between them. `Retry(attempts=1)` never retries."""

    attempts: int = 4
    base: float = 0.1
    cap: float = 5.0

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap, self.base * 2 ** attempt))  # noqa: S311


async def _record_failure(db: Database, rec: journal.RunRecord, exc: errors.PrunerError, *,
                          status: str = "failed", attempt: int = 1) -> None:
    """Best effort: a journal that cannot be written must not hide the original error."""
    try:
        async with transaction(db, "recording the failed run") as conn:
            await journal.record(conn, rec, status=status, error=str(exc)[:4000],
                                 attempt=attempt)
    except errors.PrunerError:
        pass


def _record(req: SweepRequest, kind: str, operator: str, reason: str, *, archived: bool = False,
            drain_id: str | None = None) -> journal.RunRecord:
    return journal.RunRecord(
        entity=req.pruner.name, kind=kind, cutoff=req.before, limit=req.limit,
        cascade_rbac=req.cascade_rbac, operator=operator, reason=reason,
        started_at=datetime.now(UTC), archived=archived, drain_id=drain_id)


async def prune(db: Database, req: SweepRequest, *, archive: bool = False,
                operator: str | None = None, reason: str = "", drain_id: str | None = None,
                settings: PruneSettings | None = None, retry: Retry | None = None,
                window: Window | None = None) -> PruneResult:
    """One journaled prune of `req`; the result carries the journal's `run_id`.

    `operator` defaults to user@host; `reason` is free text (≤ 2,000 characters). With
    `archive` every row the prune deletes or sets NULL is kept as JSON in the journal's archive.
    A transient failure (contention, a dropped connection) is tried again per `retry` (default
    `Retry()`), each failed attempt journaled as 'retried'. `window` is a drain's keyset
    window. Raises `InvalidArgument` for bad input (nothing runs, nothing is journaled) and
    another `PrunerError` when the prune fails (rolled back, journaled as failed)."""
    operator = check_operator(operator)
    reason = check_reason(reason)
    if not isinstance(archive, bool):
        raise errors.InvalidArgument("archive must be true or false")
    kind = "drain" if drain_id else ("selected" if req.ids is not None else "prune")
    rec = _record(req, kind, operator, reason, archived=archive, drain_id=drain_id)
    policy = retry or Retry()
    await journal_ready(db)
    for attempt in range(1, policy.attempts + 1):
        try:
            return await _prune_once(db, req, rec, archive, settings, window, attempt)
        except errors.InvalidArgument:
            raise  # nothing ran: bad input is not a failed run
        except errors.PrunerError as exc:
            if not exc.transient or attempt == policy.attempts:
                await _record_failure(db, rec, exc, attempt=attempt)
                raise
            await _record_failure(db, rec, exc, status="retried", attempt=attempt)
            await asyncio.sleep(policy.delay(attempt))
    raise AssertionError("unreachable")  # pragma: no cover


async def _prune_once(db: Database, req: SweepRequest, rec: journal.RunRecord, archive: bool,
                      settings: PruneSettings | None, window: Window | None,
                      attempt: int) -> PruneResult:
    async with transaction(db, f"prune of {req.pruner.name}") as conn:
        # the timeouts cover the whole transaction, COMMIT included (deferred checks)
        await conn.execute(local_settings(settings or PruneSettings()))
        run_id = await journal.reserve_run_id(conn)
        result = await execute(conn, req, settings=settings, window=window,
                               archive=ArchiveTarget(journal.archive, run_id) if archive
                               else None)
        result = replace(result, run_id=run_id, pruned_at=datetime.now(UTC))
        await journal.record(conn, rec, run_id=run_id, status="succeeded",
                             count=result.count, deleted=result.deleted, ids=result.ids,
                             finished_at=result.pruned_at, updated=result.updated,
                             busy=result.busy, attempt=attempt)
    return result


async def rehearse(db: Database, req: SweepRequest, *, operator: str | None = None,
                   reason: str = "", settings: PruneSettings | None = None) -> PruneResult:
    """Run the exact prune and roll it back; the journal keeps a 'rehearsed' run with the
    counts. Same arguments and errors as `prune`."""
    operator = check_operator(operator)
    reason = check_reason(reason)
    result = await execute(db, req, dry_run=True, settings=settings)
    await journal_ready(db)
    rec = _record(req, "rehearsal", operator, reason)
    async with transaction(db, "recording the rehearsal") as conn:
        run_id = await journal.record(conn, rec, status="rehearsed", count=result.count,
                                      deleted=result.deleted, updated=result.updated,
                                      busy=result.busy)
    return replace(result, run_id=run_id)
