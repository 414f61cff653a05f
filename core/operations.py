"""Operator workflows on top of the Pruner contract, each one journaled.

    prune      one capped sweep (optionally of selected ids, optionally archived)
    rehearse   the exact prune, rolled back: exact per-table counts, nothing changes
    drain      a backlog in capped batches, one transaction each, cutoff frozen once

A successful prune commits its deletes and its journal rows together; a failed one rolls back and
is then recorded as failed in a transaction of its own.
"""

from __future__ import annotations

import asyncio
import getpass
import inspect
import os
import socket
import tempfile
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from core import errors, export, journal
from core.db import DB_ERRORS, Database, transaction, translate
from core.repository.pruner import (
    DEFAULT_LIMIT,
    Pruner,
    PruneResult,
    PruneSettings,
    check_before,
    check_limit,
    execute_pruner,
)

MAX_REASON = 2_000
MAX_OPERATOR = 128
KEEP_IDS_IN_MEMORY = 100_000  # a drain spills ids to a CSV file beyond this


def default_operator() -> str:
    """PRUNER_OPERATOR, else the OS user and host the command runs as."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return os.environ.get("PRUNER_OPERATOR") or f"{user}@{socket.gethostname()}"


def _check_text(value: Any, name: str, top: int, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise errors.InvalidArgument(f"{name} must be text, got {type(value).__name__}")
    value = value.strip()
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise errors.InvalidArgument(f"{name} must be valid UTF-8 text") from None
    if required and not value:
        raise errors.InvalidArgument(f"{name} must not be empty")
    if len(value) > top or "\x00" in value:
        raise errors.InvalidArgument(f"{name} must be at most {top} characters of text")
    return value


def _check_operator(operator: Any) -> str:
    operator = default_operator() if operator is None else operator
    return _check_text(operator, "operator", MAX_OPERATOR, required=True)


_ready: weakref.WeakSet[AsyncEngine] = weakref.WeakSet()  # engines whose journal exists


async def _journal_ready(db: Database) -> None:
    if isinstance(db, AsyncEngine) and db in _ready:
        return
    async with transaction(db) as conn:
        await journal.ensure_journal(conn)
    if isinstance(db, AsyncEngine):
        _ready.add(db)


async def _record_failure(db: Database, rec: journal.RunRecord, exc: errors.PrunerError) -> None:
    """Best effort: a journal that cannot be written must not hide the original error."""
    try:
        async with transaction(db) as conn:
            await journal.record(conn, rec, status="failed", error=str(exc)[:4000])
    except (*DB_ERRORS, errors.PrunerError):
        pass


async def prune(
    db: Database,
    pruner: Pruner,
    *,
    before: datetime,
    limit: int | None = None,
    cascade_rbac: bool = True,
    ids: Iterable[Any] | None = None,
    archive: bool = False,
    operator: str | None = None,
    reason: str = "",
    drain_id: str | None = None,
    settings: PruneSettings | None = None,
) -> PruneResult:
    """One journaled prune. The result carries the journal's `run_id`."""
    operator = _check_operator(operator)
    reason = _check_text(reason, "reason", MAX_REASON)
    if not isinstance(archive, bool):
        raise errors.InvalidArgument("archive must be true or false")
    before = check_before(before)
    ids = None if ids is None else pruner.coerce_ids(ids)
    kind = "drain" if drain_id else ("selected" if ids is not None else "prune")
    rec = journal.RunRecord(
        entity=pruner.name, kind=kind, cutoff=before,
        limit=limit if isinstance(limit, int) and not isinstance(limit, bool) else 0,
        cascade_rbac=cascade_rbac is True, operator=operator, reason=reason,
        started_at=datetime.now(UTC), archived=archive, drain_id=drain_id,
    )
    await _journal_ready(db)
    try:
        async with transaction(db) as conn:
            run_id = await journal.reserve_run_id(conn)
            result = await execute_pruner(
                conn, pruner, before=before, limit=limit, cascade_rbac=cascade_rbac, ids=ids,
                archive_run_id=run_id if archive else None, settings=settings)
            result = replace(result, run_id=run_id, pruned_at=datetime.now(UTC))
            await journal.record(conn, replace(rec, limit=result.limit), run_id=run_id,
                                 status="succeeded", count=result.count, deleted=result.deleted,
                                 ids=result.ids, finished_at=result.pruned_at)
    except errors.InvalidArgument:
        raise  # nothing ran: bad input is not a failed run
    except (*DB_ERRORS, errors.PrunerError) as exc:
        err = translate(exc, f"prune of {pruner.name}")
        await _record_failure(db, rec, err)
        raise err from exc
    return result


async def rehearse(
    db: Database,
    pruner: Pruner,
    *,
    before: datetime,
    limit: int | None = None,
    cascade_rbac: bool = True,
    ids: Iterable[Any] | None = None,
    operator: str | None = None,
    reason: str = "",
    settings: PruneSettings | None = None,
) -> PruneResult:
    """Run the exact prune and roll it back; the journal keeps a 'rehearsed' run with the counts."""
    operator = _check_operator(operator)
    reason = _check_text(reason, "reason", MAX_REASON)
    result = await execute_pruner(db, pruner, before=before, limit=limit,
                                  cascade_rbac=cascade_rbac, ids=ids, dry_run=True,
                                  settings=settings)
    await _journal_ready(db)
    rec = journal.RunRecord(
        entity=pruner.name, kind="rehearsal", cutoff=result.cutoff, limit=result.limit,
        cascade_rbac=cascade_rbac, operator=operator, reason=reason,
        started_at=datetime.now(UTC))
    try:
        async with transaction(db) as conn:
            run_id = await journal.record(conn, rec, status="rehearsed", count=result.count,
                                          deleted=result.deleted)
    except DB_ERRORS as exc:
        raise translate(exc, "recording the rehearsal") from exc
    return replace(result, run_id=run_id)


# ------------------------------------------------------------------------------ drain
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


class _IdSink:
    """Keeps a drain's ids in memory until there are too many, then streams them to a CSV file."""

    def __init__(self, entity: str, path: Path | None, keep: int) -> None:
        self.entity, self.path, self.keep = entity, path, keep
        self.rows: list[tuple[int, str, Any, datetime]] | None = []  # None once spilled
        self._file: Any = None
        if path is not None:
            self._spill(path)

    def _spill(self, path: Path) -> None:
        self.path = path
        self._file = open(path, "w", newline="")  # noqa: SIM115 - closed in close()
        export.write_ids_csv(self._file, self.rows or [])
        self.rows = None

    def add(self, run_id: int, ids: list[Any], pruned_at: datetime) -> None:
        new = [(run_id, self.entity, i, pruned_at) for i in ids]
        if self.rows is not None and len(self.rows) + len(new) > self.keep:
            fd, name = tempfile.mkstemp(prefix=f"pruner-drain-{self.entity}-", suffix=".csv")
            os.close(fd)
            self._spill(Path(name))
        if self.rows is None:
            export.write_ids_csv(self._file, new, header=False)
            self._file.flush()
        else:
            self.rows.extend(new)

    @property
    def ids(self) -> list[Any] | None:
        return None if self.rows is None else [row[2] for row in self.rows]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


async def estimate(db: Database, pruner: Pruner, before: datetime) -> int:
    """How many rows qualify right now (counted in SQL, no locks)."""
    q = sa.select(sa.func.count()).select_from(pruner.candidates(before).subquery())
    try:
        async with transaction(db) as conn:
            return (await conn.execute(q)).scalar_one()
    except DB_ERRORS as exc:
        raise translate(exc, f"counting {pruner.name} candidates") from exc


async def drain(
    db: Database,
    pruner: Pruner,
    *,
    before: datetime,
    batch_size: int = DEFAULT_LIMIT,
    max_batches: int | None = None,
    max_seconds: float | None = None,
    pause_seconds: float = 0.0,
    cascade_rbac: bool = True,
    progress: Callable[[DrainProgress], None | Awaitable[None]] | None = None,
    cancel: Cancel | None = None,
    ids_file: Path | str | None = None,
    keep_ids_in_memory: int = KEEP_IDS_IN_MEMORY,
    operator: str | None = None,
    reason: str = "",
    settings: PruneSettings | None = None,
) -> DrainResult:
    """Prune a backlog in batches of `batch_size`, each its own journaled transaction.

    The cutoff is frozen once, here, so rows that age in while the drain runs are not chased and
    the drain always ends: when a batch comes back short, at `max_batches` / `max_seconds`, or
    when `cancel.is_set()` between batches. A failed batch stops the drain; batches already
    committed stay committed (and journaled), the rest is untouched.
    """
    settings = settings or PruneSettings.from_env()
    before = check_before(before)
    batch_size = check_limit(batch_size, settings)
    for name, value in (("max_batches", max_batches), ("max_seconds", max_seconds)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or value <= 0):
            raise errors.InvalidArgument(f"{name} must be a positive number")
    if isinstance(pause_seconds, bool) or not isinstance(pause_seconds, int | float) or not (
            0 <= pause_seconds <= 3600):
        raise errors.InvalidArgument("pause_seconds must be between 0 and 3600")
    operator = _check_operator(operator)
    reason = _check_text(reason, "reason", MAX_REASON)

    result = DrainResult(entity=pruner.name, drain_id=str(uuid.uuid4()), cutoff=before,
                         batch_size=batch_size)
    result.estimated_total = await estimate(db, pruner, before)
    # What this drain can reach: the backlog, or less when bounded by batches.
    target = result.estimated_total if max_batches is None else min(
        result.estimated_total, int(max_batches) * batch_size)
    sink = _IdSink(pruner.name, Path(ids_file) if ids_file else None, keep_ids_in_memory)
    started = time.monotonic()
    try:
        while True:
            if cancel is not None and cancel.is_set():
                result.stopped = "cancelled"
                break
            try:
                batch = await prune(db, pruner, before=before, limit=batch_size,
                                    cascade_rbac=cascade_rbac, operator=operator, reason=reason,
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
                                              max(target, result.count),
                                              batch.count))
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
