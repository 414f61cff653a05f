"""Purger: delete one row by primary key and return it; None when there is no such row.

`execute_purger` runs `DELETE … WHERE pk = key RETURNING *` in its own or the caller's
transaction; a refused delete (a foreign key) raises `IntegrityFailure`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from core.db import Database
from core.repository.base import key_of, run_one


@dataclass(frozen=True)
class Purger:
    table: sa.Table | type
    key: Any


async def execute_purger(db: Database, spec: Purger) -> Row[Any] | None:
    table, pk = key_of(spec.table)
    stmt = sa.delete(table).where(pk == spec.key).returning(*table.c)
    return await run_one(db, stmt, f"deleting a row of {table.name}")
