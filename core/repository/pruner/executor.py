"""The Pruner's executor: one sweep request, one transaction, one statement.

`execute(db, request)` runs a validated `SweepRequest`; `execute_pruner(db, pruner, before=…)`
is the same for a library caller who has loose arguments (it builds the request first).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from core.db import Database, transaction
from core.repository.pruner.declaration import Pruner
from core.repository.pruner.request import SweepRequest, check_flag, sweep
from core.repository.pruner.result import PruneResult
from core.repository.pruner.statements import ArchiveTarget, local_settings, prune_statement
from core.settings import PruneSettings


class _Rehearsal(Exception):
    """Raised inside the transaction of a dry run so that it rolls back."""


async def execute(db: Database, req: SweepRequest, *, dry_run: bool = False,
                  archive: ArchiveTarget | None = None,
                  settings: PruneSettings | None = None) -> PruneResult:
    """Delete up to `req.limit` of the oldest qualifying rows in one transaction.

    `db` is an `AsyncEngine` (the prune owns its transaction) or the caller's `AsyncConnection`
    / `AsyncSession` (it joins through a SAVEPOINT). `dry_run` runs the exact prune and rolls it
    back. With `archive`, the deleted rows are copied there in the same statement. Errors are
    `core.errors.PrunerError` subclasses with a one-line message; every table is then as before.
    """
    check_flag(dry_run, "dry_run")
    bounds = settings or PruneSettings()
    stmt, tables = prune_statement(req, archive)
    doing = f"{'rehearsal of ' if dry_run else ''}prune of {req.pruner.name}"
    row = None
    try:
        async with transaction(db, doing) as conn:
            await conn.execute(local_settings(bounds))
            row = (await conn.execute(stmt)).one()
            if dry_run:
                raise _Rehearsal
    except _Rehearsal:
        pass
    assert row is not None
    got = list(row.ids or [])
    n_tables = row[-len(tables):] if tables else []
    deleted = {req.pruner.table.name: len(got), **dict(zip(tables, n_tables, strict=True))}
    gone = set(got)
    skipped = [] if req.ids is None else [i for i in req.ids if i not in gone]
    return PruneResult(
        entity=req.pruner.name, cutoff=req.before, limit=req.limit, count=len(got), ids=got,
        deleted=deleted, cascade_rbac=req.cascade_rbac, dry_run=dry_run, skipped=skipped,
    )


async def execute_pruner(
    db: Database,
    pruner: Pruner,
    *,
    before: datetime,
    limit: int | None = None,
    cascade_rbac: bool = True,
    ids: Iterable[Any] | None = None,
    dry_run: bool = False,
    settings: PruneSettings | None = None,
) -> PruneResult:
    """Delete up to `limit` (default 1,000, or the number of `ids`) of `pruner`'s oldest terminal
    rows older than `before`, in one transaction; `ids` restricts the sweep to those rows (each
    still has to qualify; the rest come back as `skipped`). Bad input raises
    `core.errors.InvalidArgument` before anything runs."""
    req = sweep(pruner, before=before, limit=limit, ids=ids, cascade_rbac=cascade_rbac,
                settings=settings)
    return await execute(db, req, dry_run=dry_run, settings=settings)
