"""The journal's tables, in the `pruner` schema so they never collide with the user's.

    prune_runs           one row per prune, rehearsal, drain batch, failed or retried attempt
    prune_run_ids        a run's pruned ids, as one text[] (cheap to write, TOASTed)
    prune_archive_rows   with --archive: every row a run deleted or set NULL, as JSONB
    prune_drains         one row per drain: progress, why it stopped, and its stop flag
    prune_parked         rows a drain could not prune (poison rows), with the reason

`ensure_journal` creates what is missing and adds columns that later versions introduced, so
an older journal keeps its history. Existing, complete tables need no DDL, so a role that may
only write rows can use them.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db import Database, transaction

SCHEMA = "pruner"
metadata = sa.MetaData(schema=SCHEMA)


def _ts(name: str, **kw: object) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), **kw)  # type: ignore[arg-type]


runs = sa.Table(
    "prune_runs", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("entity", sa.String(63), nullable=False),
    # prune | selected | rehearsal | drain | restore
    sa.Column("kind", sa.String(16), nullable=False),
    # succeeded | rehearsed | failed | retried (a transient failure that was tried again)
    sa.Column("status", sa.String(16), nullable=False),
    _ts("cutoff", nullable=False),
    sa.Column("limit", sa.Integer, nullable=False),
    sa.Column("cascade_rbac", sa.Boolean, nullable=False),
    sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("operator", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("drain_id", sa.String(36)),  # batches of one drain share it
    _ts("started_at", nullable=False),
    _ts("finished_at", nullable=False, server_default=sa.func.clock_timestamp()),
    sa.Column("count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("deleted", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("error", sa.Text),
    # added after the first release (ensure_journal adds them to an older journal)
    sa.Column("updated", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("busy", sa.Integer, nullable=False, server_default="0"),
    sa.Column("attempt", sa.Integer, nullable=False, server_default="1"),
    sa.Column("restored_from", sa.BigInteger),  # a restore run: the run it put back
    sa.Index("ix_prune_runs_entity_started", "entity", "started_at"),
    sa.Index("ix_prune_runs_drain", "drain_id"),
)


def _run_fk() -> sa.ForeignKey:
    # Deferred: a prune writes its archive rows in the same statement as its deletes, before the
    # run row that they belong to exists; the check happens at commit.
    return sa.ForeignKey(runs.c.id, ondelete="CASCADE", deferrable=True, initially="DEFERRED")


pruned_ids = sa.Table(
    "prune_run_ids", metadata,
    sa.Column("run_id", sa.BigInteger, _run_fk(), primary_key=True),
    sa.Column("ids", ARRAY(sa.Text), nullable=False),
)

archive = sa.Table(
    "prune_archive_rows", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("run_id", sa.BigInteger, _run_fk(), nullable=False),
    sa.Column("tbl", sa.Text, nullable=False),  # the table, as the catalog names it
    sa.Column("kind", sa.String(16), nullable=False),  # deleted | set_null
    sa.Column("row", JSONB, nullable=False),
    sa.Index("ix_prune_archive_rows_run", "run_id", "id"),
)

drains = sa.Table(
    "prune_drains", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("entity", sa.String(63), nullable=False),
    _ts("cutoff", nullable=False),
    sa.Column("batch_size", sa.Integer, nullable=False),
    sa.Column("max_batches", sa.Integer),
    # running | done | max_batches | max_seconds | stopped | failed
    sa.Column("status", sa.String(16), nullable=False, server_default="running"),
    sa.Column("stop_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("operator", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    _ts("started_at", nullable=False, server_default=sa.func.clock_timestamp()),
    _ts("heartbeat_at", nullable=False, server_default=sa.func.clock_timestamp()),
    _ts("finished_at"),
    sa.Column("estimated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("batches", sa.Integer, nullable=False, server_default="0"),
    sa.Column("count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("busy", sa.Integer, nullable=False, server_default="0"),
    sa.Column("parked", sa.Integer, nullable=False, server_default="0"),
    sa.Column("retries", sa.Integer, nullable=False, server_default="0"),
    sa.Column("deleted", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("position", JSONB),  # the keyset position (timestamp, *key) as JSON
    sa.Column("error", sa.Text),
    sa.Index("ix_prune_drains_status", "status"),
)

parked = sa.Table(
    "prune_parked", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("entity", sa.String(63), nullable=False),
    sa.Column("row_key", sa.Text, nullable=False),  # the key as text (JSON for composite keys)
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("detail", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("drain_id", sa.String(36)),
    _ts("parked_at", nullable=False, server_default=sa.func.clock_timestamp()),
    sa.UniqueConstraint("entity", "row_key", name="uq_prune_parked_row"),
)

_SETUP_LOCK = 0x70_72_75_6E  # advisory lock key: concurrent first runs create the tables once


async def _complete(conn: AsyncConnection) -> bool:
    """Every table exists and has every column this version writes."""
    found = (await conn.execute(sa.text(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = :schema"), {"schema": SCHEMA})).all()
    have = {(t, c) for t, c in found}
    return all((t.name, c.name) in have for t in metadata.sorted_tables for c in t.columns)


async def ensure_journal(db: Database) -> None:
    """Create the journal tables if missing and add missing columns (idempotent, safe to run
    concurrently)."""
    async with transaction(db, "setting up the journal tables") as conn:
        if await _complete(conn):
            return
        await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SETUP_LOCK)))
        await conn.execute(sa.schema.CreateSchema(SCHEMA, if_not_exists=True))
        await conn.run_sync(metadata.create_all, checkfirst=True)
        await conn.run_sync(_add_missing_columns)


def _add_missing_columns(sync_conn: sa.Connection) -> None:
    inspector = sa.inspect(sync_conn)
    for table in metadata.sorted_tables:
        have = {c["name"] for c in inspector.get_columns(table.name, schema=SCHEMA)}
        for col in table.columns:
            if col.name not in have:
                ddl = sa.schema.CreateColumn(col).compile(dialect=sync_conn.dialect)
                sync_conn.execute(sa.text(
                    f"ALTER TABLE {SCHEMA}.{table.name} ADD COLUMN IF NOT EXISTS {ddl}"))
