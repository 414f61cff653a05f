"""What the single-row specs (Creator, Updater, Purger) share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from core import errors
from core.db import DB_ERRORS, Database, transaction, translate
from core.repository.pruner import _as_table, single_key


def checked_values(table: sa.Table, values: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(values) - set(table.c.keys()))
    if unknown:
        raise errors.InvalidArgument(f"table {table.name} has no column(s) {', '.join(unknown)}")
    return dict(values)


def key_of(table: sa.Table | type) -> tuple[sa.Table, sa.Column]:
    t = _as_table(table)
    return t, single_key(t)


async def run_one(db: Database, stmt: sa.Executable, doing: str) -> Row[Any] | None:
    """Execute a one-row statement in its own (or the caller's) transaction."""
    try:
        async with transaction(db) as conn:
            return (await conn.execute(stmt)).one_or_none()
    except DB_ERRORS as exc:
        raise translate(exc, doing) from exc
