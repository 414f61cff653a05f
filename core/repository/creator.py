"""Creator: insert one row and return it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from core.db import Database
from core.repository.base import checked_values, column_names, key_of, run_one


@dataclass(frozen=True)
class Creator:
    """Insert `values` (column name -> value) into `table` (a Table or mapped class with a
    single-column primary key); `returning` names the columns to hand back (default: all)."""

    table: sa.Table | type
    values: Mapping[str, Any]
    returning: tuple[str, ...] | None = None


async def execute_creator(db: Database, spec: Creator) -> Row[Any]:
    """`INSERT … RETURNING` in its own transaction (an engine) or the caller's (a connection or
    session, through a savepoint). Unknown columns raise `InvalidArgument`; a refused insert
    (constraint, permission) raises the matching `core.errors.PrunerError`."""
    table, _ = key_of(spec.table)
    cols = (table.c if spec.returning is None
            else [table.c[c] for c in column_names(table, spec.returning, "Creator.returning")])
    stmt = sa.insert(table).values(checked_values(table, spec.values)).returning(*cols)
    row = await run_one(db, stmt, f"adding a row to {table.name}")
    assert row is not None  # INSERT … RETURNING always yields the row
    return row
