"""Runs: writing and reading the journal's record of every prune, rehearsal and drain batch.

A successful prune writes its run row and ids in the same transaction as its deletes, so there is
no prune without a record and no record of a prune that rolled back. A failure (or a retried
attempt) is recorded in a transaction of its own.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core import errors
from core.db import Database, transaction
from core.journal.tables import SCHEMA, archive, pruned_ids, runs
from core.repository.creator import Creator, execute_creator
from core.repository.pruner.result import plain


@dataclass(frozen=True)
class RunRecord:
    entity: str
    kind: str
    cutoff: datetime
    limit: int
    cascade_rbac: bool
    operator: str
    reason: str
    started_at: datetime
    archived: bool = False
    drain_id: str | None = None


async def record(conn: AsyncConnection, rec: RunRecord, *, status: str, count: int = 0,
                 deleted: dict[str, int] | None = None, ids: list[Any] | None = None,
                 error: str | None = None, run_id: int | None = None,
                 finished_at: datetime | None = None, updated: dict[str, int] | None = None,
                 busy: int = 0, attempt: int = 1, restored_from: int | None = None) -> int:
    """Insert a run row (and its ids) in `conn`'s transaction; returns the run id."""
    given: dict[str, Any] = {} if run_id is None else {"id": run_id}
    if finished_at is not None:
        given["finished_at"] = finished_at
    row = await execute_creator(conn, Creator(runs, {
        **given, "entity": rec.entity, "kind": rec.kind, "status": status, "cutoff": rec.cutoff,
        "limit": rec.limit, "cascade_rbac": rec.cascade_rbac, "archived": rec.archived,
        "operator": rec.operator, "reason": rec.reason, "drain_id": rec.drain_id,
        "started_at": rec.started_at, "count": count, "deleted": deleted or {}, "error": error,
        "updated": updated or {}, "busy": busy, "attempt": attempt,
        "restored_from": restored_from,
    }, returning=("id",)))
    if ids:
        await execute_creator(conn, Creator(pruned_ids, {
            "run_id": row.id, "ids": [id_text(i) for i in ids]}, returning=("run_id",)))
    return int(row.id)


def id_text(value: Any) -> str:
    """A pruned id as the journal and the CSVs keep it: its text, or a JSON array of its parts
    for a composite key."""
    if isinstance(value, uuid.UUID) or type(value) is int:  # the common keys (hot: per id)
        return str(value)
    if isinstance(value, tuple):
        return json.dumps([plain(v) for v in value])
    return str(plain(value))


async def reserve_run_id(conn: AsyncConnection) -> int:
    """A run id taken before the prune (the archive rows reference it in the same statement)."""
    seq = sa.func.pg_get_serial_sequence(f"{SCHEMA}.{runs.name}", "id")
    return int((await conn.execute(sa.select(sa.func.nextval(seq)))).scalar_one())


def _check_run_id(run_id: Any) -> int:
    if isinstance(run_id, bool) or not isinstance(run_id, int) or run_id < 1:
        raise errors.InvalidArgument(f"run id must be a positive whole number, got {run_id!r}")
    return run_id


# ------------------------------------------------------------------------------ reading
@dataclass(frozen=True)
class Run:
    id: int
    entity: str
    kind: str
    status: str
    cutoff: datetime
    limit: int
    cascade_rbac: bool
    archived: bool
    operator: str
    reason: str
    drain_id: str | None
    started_at: datetime
    finished_at: datetime
    count: int
    deleted: dict[str, int]
    error: str | None
    updated: dict[str, int]
    busy: int
    attempt: int
    restored_from: int | None

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for k in ("cutoff", "started_at", "finished_at"):
            d[k] = d[k].isoformat()
        return d


async def _exists(conn: AsyncConnection) -> bool:
    q = sa.select(sa.func.to_regclass(f"{SCHEMA}.{runs.name}"))
    return (await conn.execute(q)).scalar() is not None


async def history(db: Database, *, limit: int = 50, entity: str | None = None,
                  status: str | None = None, kind: str | None = None,
                  operator: str | None = None, drain_id: str | None = None) -> list[Run]:
    """The newest runs first, optionally filtered. An absent journal is an empty history."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000:
        raise errors.InvalidArgument("history limit must be a whole number from 1 to 10,000")
    q = sa.select(runs).order_by(runs.c.id.desc()).limit(limit)
    for col, value in ((runs.c.entity, entity), (runs.c.status, status), (runs.c.kind, kind),
                       (runs.c.operator, operator), (runs.c.drain_id, drain_id)):
        if value:
            q = q.where(col == value)
    async with transaction(db, "reading the journal") as conn:
        if not await _exists(conn):
            return []
        return [Run(**r._mapping) for r in (await conn.execute(q)).all()]


async def get_run(db: Database, run_id: Any) -> Run:
    run_id = _check_run_id(run_id)
    async with transaction(db, "reading the journal") as conn:
        row = (await conn.execute(sa.select(runs).where(runs.c.id == run_id))).one_or_none() \
            if await _exists(conn) else None
    if row is None:
        raise errors.InvalidArgument(f"no run {run_id} in the journal")
    return Run(**row._mapping)


async def run_ids(db: Database, run_id: Any) -> list[str]:
    run_id = _check_run_id(run_id)
    async with transaction(db, "reading the journal") as conn:
        row = (await conn.execute(sa.select(pruned_ids.c.ids)
                                  .where(pruned_ids.c.run_id == run_id))).scalar()
    return list(row or [])


@dataclass(frozen=True)
class ArchivedRow:
    table: str  # as the catalog names it
    kind: str  # deleted | set_null
    row: dict[str, Any]  # deleted: every column; set_null: {"key": …, "set": old values}


async def archived_rows(db: Database, run_id: Any) -> list[ArchivedRow]:
    """Every row the run archived, in the order the prune wrote them."""
    run_id = _check_run_id(run_id)
    q = (sa.select(archive.c.tbl, archive.c.kind, archive.c.row)
         .where(archive.c.run_id == run_id).order_by(archive.c.id))
    async with transaction(db, "reading the archive") as conn:
        return [ArchivedRow(r.tbl, r.kind, r.row) for r in (await conn.execute(q)).all()]

