"""The journal: every prune, rehearsal and drain batch, kept in tables this project owns.

A successful prune writes its run row and ids in the same transaction as its deletes, so there is
no prune without a record and no record of a prune that rolled back. A failure is recorded in a
transaction of its own. Tables live in the `pruner` schema so they never collide with the user's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from core import errors
from core.db import Database, transaction
from core.repository.creator import Creator, execute_creator

SCHEMA = "pruner"
metadata = sa.MetaData(schema=SCHEMA)

runs = sa.Table(
    "prune_runs", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("entity", sa.String(63), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # prune | selected | rehearsal | drain
    sa.Column("status", sa.String(16), nullable=False),  # succeeded | rehearsed | failed
    sa.Column("cutoff", sa.DateTime(timezone=True), nullable=False),
    sa.Column("limit", sa.Integer, nullable=False),
    sa.Column("cascade_rbac", sa.Boolean, nullable=False),
    sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("operator", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("drain_id", sa.String(36)),  # batches of one drain share it
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.clock_timestamp()),
    sa.Column("count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("deleted", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("error", sa.Text),
    sa.Index("ix_prune_runs_entity_started", "entity", "started_at"),
)

def _run_fk() -> sa.ForeignKey:
    # Deferred: a prune writes its archive rows in the same statement as its deletes, before the
    # run row that they belong to exists; the check happens at commit.
    return sa.ForeignKey(runs.c.id, ondelete="CASCADE", deferrable=True, initially="DEFERRED")


# One row per run: the ids as one text[] (cheap to write in the prune's transaction, TOASTed).
pruned_ids = sa.Table(
    "prune_run_ids", metadata,
    sa.Column("run_id", sa.BigInteger, _run_fk(), primary_key=True),
    sa.Column("ids", ARRAY(sa.Text), nullable=False),
)

archive = sa.Table(
    "prune_archive", metadata,
    sa.Column("run_id", sa.BigInteger, _run_fk(), primary_key=True),
    sa.Column("entity_id", sa.Text, primary_key=True),
    sa.Column("row", JSONB, nullable=False),
)

_SETUP_LOCK = 0x70_72_75_6E  # advisory lock key: concurrent first runs create the tables once


async def _all_exist(conn: AsyncConnection) -> bool:
    names = [f"{SCHEMA}.{t.name}" for t in metadata.sorted_tables]
    found = await conn.execute(sa.select(*(sa.func.to_regclass(n) for n in names)))
    return all(v is not None for v in found.one())


async def ensure_journal(db: Database) -> None:
    """Create the journal tables if missing (idempotent, safe to run concurrently)."""
    async with transaction(db, "setting up the journal tables") as conn:
        # Existing tables need no DDL, so a role that may only write rows can use them.
        if await _all_exist(conn):
            return
        await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SETUP_LOCK)))
        await conn.execute(sa.schema.CreateSchema(SCHEMA, if_not_exists=True))
        await conn.run_sync(metadata.create_all, checkfirst=True)


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
                 finished_at: datetime | None = None) -> int:
    """Insert a run row (and its ids) in `conn`'s transaction; returns the run id."""
    given: dict[str, Any] = {} if run_id is None else {"id": run_id}
    if finished_at is not None:
        given["finished_at"] = finished_at
    row = await execute_creator(conn, Creator(runs, {
        **given, "entity": rec.entity, "kind": rec.kind, "status": status, "cutoff": rec.cutoff,
        "limit": rec.limit, "cascade_rbac": rec.cascade_rbac, "archived": rec.archived,
        "operator": rec.operator, "reason": rec.reason, "drain_id": rec.drain_id,
        "started_at": rec.started_at, "count": count, "deleted": deleted or {}, "error": error,
    }, returning=("id",)))
    if ids:
        await execute_creator(conn, Creator(pruned_ids, {
            "run_id": row.id, "ids": [str(i) for i in ids]}, returning=("run_id",)))
    return int(row.id)


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
                  operator: str | None = None) -> list[Run]:
    """The newest runs first, optionally filtered. An absent journal is an empty history."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000:
        raise errors.InvalidArgument("history limit must be a whole number from 1 to 10,000")
    q = sa.select(runs).order_by(runs.c.id.desc()).limit(limit)
    for col, value in ((runs.c.entity, entity), (runs.c.status, status), (runs.c.kind, kind),
                       (runs.c.operator, operator)):
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


async def archived_rows(db: Database, run_id: Any) -> list[tuple[str, dict[str, Any]]]:
    run_id = _check_run_id(run_id)
    q = (sa.select(archive.c.entity_id, archive.c.row).where(archive.c.run_id == run_id)
         .order_by(archive.c.entity_id))
    async with transaction(db, "reading the archive") as conn:
        return [(r.entity_id, r.row) for r in (await conn.execute(q)).all()]

