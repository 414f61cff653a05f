"""Updater: change one row, found by primary key; None when there is no such row.

`execute_updater` runs `UPDATE … WHERE pk = key RETURNING *` in its own or the caller's
transaction; unknown columns or no values raise `InvalidArgument`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from core import errors
from core.db import Database
from core.repository.base import checked_values, key_of, run_one


@dataclass(frozen=True)
class Updater:
    table: sa.Table | type
    key: Any
    values: Mapping[str, Any]


async def execute_updater(db: Database, spec: Updater) -> Row[Any] | None:
    table, pk = key_of(spec.table)
    values = checked_values(table, spec.values)
    if not values:
        raise errors.InvalidArgument("Updater needs at least one value to set")
    stmt = sa.update(table).where(pk == spec.key).values(values).returning(*table.c)
    return await run_one(db, stmt, f"updating a row of {table.name}")
