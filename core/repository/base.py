"""What every spec shares: tables and their keys, checked column names, one-row execution."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from core import errors
from core.db import Database, transaction


def as_table(table: sa.Table | type) -> sa.Table:
    """A `Table`, or the `__table__` of a mapped class; anything else is a DefinitionError."""
    if isinstance(table, sa.Table):
        return table
    mapped = getattr(table, "__table__", None)
    if isinstance(mapped, sa.Table):
        return mapped
    raise errors.DefinitionError(f"{table!r} is neither a Table nor a mapped class")


def column_names(table: sa.Table, names: str | Sequence[str], what: str) -> tuple[str, ...]:
    """`names` as a tuple, each checked to be a column of `table`."""
    names = (names,) if isinstance(names, str) else tuple(names)
    if not names:
        raise errors.DefinitionError(f"{what} on {table.name} names no column")
    for name in names:
        if name not in table.c:
            raise errors.DefinitionError(f"{what}: table {table.name} has no column {name!r}")
    return names


def single_key(table: sa.Table) -> sa.Column[Any]:
    """The table's one primary-key column; composite or missing keys are a DefinitionError."""
    pk = list(table.primary_key.columns)
    if len(pk) != 1:
        cols = ", ".join(c.name for c in pk) or "none"
        raise errors.DefinitionError(
            f"table {table.name} has primary key ({cols}); this needs a single-column primary key"
        )
    return pk[0]


def checked_values(table: sa.Table, values: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(values) - set(table.c.keys()))
    if unknown:
        raise errors.InvalidArgument(f"table {table.name} has no column(s) {', '.join(unknown)}")
    return dict(values)


def key_of(table: sa.Table | type) -> tuple[sa.Table, sa.Column[Any]]:
    t = as_table(table)
    return t, single_key(t)


async def run_one(db: Database, stmt: sa.Executable, doing: str) -> Row[Any] | None:
    """Execute a one-row statement in its own (or the caller's) transaction."""
    async with transaction(db, doing) as conn:
        return (await conn.execute(stmt)).one_or_none()
