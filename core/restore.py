"""Restore: put an archived run back, in one transaction, parents first.

A run pruned with `archive=True` kept every row it deleted (parent, children, cascade tree,
linked RBAC rows) and the old values of every reference it set to NULL. `restore(db, run_id)`
inserts them again in the plan's order (the pruned table first, every parent before its
children) and puts the nulled references back. It refuses, changing nothing, when the run was
not archived or was restored already, when a key is taken again, or when a row the archive
references is gone; the message names the table and PostgreSQL's detail. The restore is
journaled as a run of kind 'restore'.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.ext.asyncio import AsyncConnection

from core import errors, journal
from core.db import Database, transaction
from core.operations import check_operator, check_reason, journal_ready
from core.registry import resolve
from core.repository.pruner.planner import current_plan

_COLUMNS = sa.text("""
SELECT n.nspname AS schema, c.relname AS relname, a.attname::text AS name,
       a.attgenerated <> '' AS generated, a.attidentity = 'a' AS identity_always
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.oid = to_regclass(:tbl)
ORDER BY a.attnum
""")


@dataclass(frozen=True)
class RestoreResult:
    run_id: int  # the restore's own run
    restored_from: int
    entity: str
    inserted: dict[str, int]  # rows put back, per table
    reset: dict[str, int]  # references set back from NULL, per table

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "restored_from": self.restored_from,
                "entity": self.entity, "inserted": self.inserted, "reset": self.reset}


async def _table(conn: AsyncConnection, name: str) -> tuple[sa.Table, bool]:
    """The archived table as it is now (every insertable column), and whether it has an
    identity column that needs OVERRIDING SYSTEM VALUE."""
    rows = (await conn.execute(_COLUMNS, {"tbl": name})).all()
    if not rows:
        raise errors.SchemaMissing(f"table {name} (in the archive) does not exist any more")
    cols = [sa.Column(r.name) for r in rows if not r.generated]
    return (sa.Table(rows[0].relname, sa.MetaData(), *cols, schema=rows[0].schema),
            any(r.identity_always for r in rows))


async def _insert(conn: AsyncConnection, name: str, rows: Sequence[dict[str, Any]]) -> int:
    table, identity = await _table(conn, name)
    cols = [c.name for c in table.c]
    # jsonb_populate_recordset types every value by the table's own row type
    typed = sa.func.jsonb_populate_recordset(
        sa.cast(sa.null(), _RowType(table)), sa.bindparam("rows", list(rows), type_=JSONB)
    ).table_valued(*cols).alias("r")
    stmt: Any = sa.insert(table).from_select(cols, sa.select(*(typed.c[c] for c in cols)))
    if identity:  # put back a GENERATED ALWAYS identity's archived values: SQLAlchemy has no
        # OVERRIDING clause, so this one statement is written out, with every identifier (from
        # the catalog) quoted by SQLAlchemy's preparer and the rows bound as one parameter
        prep = PGDialect().identifier_preparer  # type: ignore[no-untyped-call]
        name, names = prep.format_table(table), ", ".join(prep.quote(c) for c in cols)
        stmt = sa.text(
            f"INSERT INTO {name} ({names}) OVERRIDING SYSTEM VALUE "  # noqa: S608
            f"SELECT {names} FROM jsonb_populate_recordset(NULL::{name}, :rows)"
        ).bindparams(sa.bindparam("rows", list(rows), type_=JSONB))
    await conn.execute(stmt)
    return len(rows)


class _RowType(sa.types.UserDefinedType[Any]):
    """The row type of a table (`NULL::schema.table`), quoted by SQLAlchemy."""

    cache_ok = False

    def __init__(self, table: sa.Table) -> None:
        self.table = table

    def get_col_spec(self, **kw: Any) -> str:
        return str(PGDialect().identifier_preparer.format_table(self.table))  # type: ignore[no-untyped-call]


def _reset_stmt(table: sa.Table, key: dict[str, Any], values: dict[str, Any]) -> Any:
    """UPDATE t SET col = (old value) WHERE key = (key), the values typed by the table's own
    columns through a one-row jsonb_populate_record."""
    src = sa.func.jsonb_populate_record(
        sa.cast(sa.null(), _RowType(table)),
        sa.bindparam("row", {**key, **values}, type_=JSONB)).table_valued(
            *table.c.keys()).alias("v")
    return (sa.update(table).values({c: src.c[c] for c in values})
            .where(*(table.c[k] == src.c[k] for k in key)))


async def restore(db: Database, run_id: Any, *, operator: str | None = None,
                  reason: str = "") -> RestoreResult:
    """Put archived run `run_id` back in one transaction (see the module). Raises
    InvalidArgument for an unknown, unarchived or already restored run, IntegrityFailure when a
    key is taken or a referenced row is gone (nothing changed)."""
    operator = check_operator(operator)
    reason = check_reason(reason)
    run = await journal.get_run(db, run_id)
    if run.status != "succeeded" or run.kind in ("restore", "rehearsal"):
        raise errors.InvalidArgument(f"run {run.id} is a {run.status} {run.kind}: nothing to "
                                     "restore")
    if not run.archived:
        raise errors.InvalidArgument(f"run {run.id} was not archived (prune with --archive to "
                                     "be able to restore)")
    done = [r for r in await journal.history(db, limit=10_000, kind="restore",
                                             status="succeeded") if r.restored_from == run.id]
    if done:
        raise errors.InvalidArgument(f"run {run.id} was restored already (run {done[0].id})")
    rows = await journal.archived_rows(db, run.id)
    deleted: dict[str, list[dict[str, Any]]] = {}
    nulled: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        (deleted if r.kind == "deleted" else nulled).setdefault(r.table, []).append(r.row)
    await journal_ready(db)
    started = datetime.now(UTC)
    inserted: dict[str, int] = {}
    reset: dict[str, int] = {}
    try:
        async with transaction(db, f"restore of run {run.id}") as conn:
            order = await _order(conn, run.entity, list(deleted))
            for name in order:
                inserted[name] = await _insert(conn, name, deleted[name])
            for name, items in nulled.items():
                reset[name] = await _reset_rows(conn, name, items)
            rec = journal.RunRecord(entity=run.entity, kind="restore", cutoff=run.cutoff,
                                    limit=run.limit, cascade_rbac=run.cascade_rbac,
                                    operator=operator, reason=reason, started_at=started)
            new_id = await journal.record(conn, rec, status="succeeded",
                                          count=inserted.get(order[0], 0) if order else 0,
                                          deleted=inserted, restored_from=run.id)
    except errors.IntegrityFailure as exc:  # a FK failure here is not a passing one
        raise errors.IntegrityFailure(f"cannot restore run {run.id}: {exc}") from exc
    return RestoreResult(new_id, run.id, run.entity, inserted, reset)


async def _reset_rows(conn: AsyncConnection, name: str, rows: Sequence[dict[str, Any]]) -> int:
    table, _ = await _table(conn, name)
    n = 0
    for row in rows:
        key, values = row.get("key") or {}, row.get("set") or {}
        if key and values:
            n += (await conn.execute(_reset_stmt(table, key, values))).rowcount
    return n


async def _order(conn: AsyncConnection, entity: str, tables: list[str]) -> list[str]:
    """Parents before children: the order of the entity's current plan, then the rest."""
    try:
        plan = await current_plan(conn, await resolve(conn, entity))
        ranked = [s.name for s in plan.steps]
    except errors.PrunerError:
        ranked = []
    first = [t for t in dict.fromkeys(ranked) if t in tables]
    return first + [t for t in tables if t not in first]
