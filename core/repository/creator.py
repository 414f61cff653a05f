"""Creator: insert one row and return it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from core.db import Database
from core.repository.base import checked_values, key_of, run_one


@dataclass(frozen=True)
class Creator:
    table: sa.Table | type
    values: Mapping[str, Any]


async def execute_creator(db: Database, spec: Creator) -> Row[Any]:
    table, _ = key_of(spec.table)
    stmt = sa.insert(table).values(checked_values(table, spec.values)).returning(*table.c)
    row = await run_one(db, stmt, f"adding a row to {table.name}")
    assert row is not None  # INSERT … RETURNING always yields the row
    return row
