"""The Pruner's executor: one sweep request, one transaction, the plan of the live catalog.

    1 plan     the cached plan, checked against the catalog's fingerprint (one small query)
    2 lock     the candidates, FOR UPDATE SKIP LOCKED (nothing waits)
    3 delete   every step of the plan for the locked rows, with lock_timeout as the longest wait
               for a row held elsewhere; when it runs out (or PostgreSQL picks this delete as
               a deadlock's victim: two prunes deleting shared rows), `classify` locks the tree with
               SKIP LOCKED, the parents with a held row are left for later ("busy") and the
               delete runs again for the rest, which are then all ours
    4 check    every locked parent is gone (else a trigger or a policy kept it: roll back and
               say which); no deleted row broke a delete-time guard (else roll back: it is
               retried and the row is then blocked)
    5 late     linked rows (RBAC) of the pruned ids committed while the prune ran (skipped
               when no other transaction has committed since the delete's snapshot)

`execute(db, request)` runs a validated `SweepRequest`; `execute_pruner(db, pruner, before=…)`
builds the request first (the library's loose-argument entry point).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from core import errors
from core.db import DB_ERRORS, Database, sqlstate, transaction
from core.repository.pruner.declaration import Pruner
from core.repository.pruner.deletes import (
    delete_statement,
    has_late,
    late_statement,
    others_committed,
)
from core.repository.pruner.locks import classify_statement, family_statement
from core.repository.pruner.plan import Plan
from core.repository.pruner.planner import current_plan
from core.repository.pruner.request import SweepRequest, check_flag, sweep
from core.repository.pruner.result import PruneResult, plain
from core.repository.pruner.statements import (
    ArchiveTarget,
    Window,
    candidates,
    local_settings,
    lock_statement,
)
from core.settings import PruneSettings

_SAVED = ("lock_timeout", "statement_timeout", "jit_above_cost")
# SQLSTATEs of a delete that met a row another transaction holds: lock_not_available (our
# lock_timeout ran out) and deadlock_detected (we were chosen as the victim)
HELD_ELSEWHERE = ("55P03", "40P01")


class _Rehearsal(Exception):
    """Raised inside the transaction of a dry run so that it rolls back."""


async def _refuse_autocommit(db: Database) -> None:
    conn = db if isinstance(db, AsyncConnection) else (
        await db.connection() if isinstance(db, AsyncSession) else None)
    options = conn.sync_connection.get_execution_options() \
        if conn is not None and conn.sync_connection is not None else {}
    if options.get("isolation_level") == "AUTOCOMMIT":
        raise errors.InvalidArgument(
            "this connection is in AUTOCOMMIT mode: a prune or rehearsal needs a transaction it "
            "can roll back; pass an engine or a connection without AUTOCOMMIT")


async def execute(db: Database, req: SweepRequest, *, dry_run: bool = False,
                  archive: ArchiveTarget | None = None, settings: PruneSettings | None = None,
                  window: Window | None = None) -> PruneResult:
    """Delete up to `req.limit` of the oldest qualifying rows, and everything the plan says goes
    with them, in one transaction.

    `db` is an `AsyncEngine` (the prune owns its transaction) or the caller's `AsyncConnection`
    / `AsyncSession` (it joins through a SAVEPOINT and leaves its settings as they were).
    `dry_run` runs the exact prune and rolls it back. With `archive`, every deleted (or
    nullified) row is copied there in the same statement. `window` bounds the candidates by a
    keyset over (timestamp, *key) (a drain's position). Errors are `core.errors.PrunerError`
    subclasses with a one-line message; every table is then as it was."""
    check_flag(dry_run, "dry_run")
    await _refuse_autocommit(db)
    bounds = settings or PruneSettings()
    doing = f"{'rehearsal of ' if dry_run else ''}prune of {req.pruner.name}"
    result: PruneResult | None = None
    try:
        async with transaction(db, doing) as conn:
            saved = (await conn.execute(sa.select(
                *(sa.func.current_setting(s) for s in _SAVED)))).one()
            plan = await current_plan(conn, req.pruner)
            await conn.execute(local_settings(bounds))
            result = await _prune(conn, plan, req, archive, window)
            result = PruneResult(**{**result.__dict__, "dry_run": dry_run})
            if dry_run:
                raise _Rehearsal
            if not isinstance(db, AsyncEngine):  # the caller's transaction goes on as it was
                await conn.execute(sa.select(*(sa.func.set_config(s, v, True)
                                               for s, v in zip(_SAVED, saved, strict=True))))
    except _Rehearsal:
        pass
    assert result is not None
    return result


async def _prune(conn: AsyncConnection, plan: Plan, req: SweepRequest,
                 archive: ArchiveTarget | None, window: Window | None) -> PruneResult:
    if window is None:
        lock = (await conn.execute(lock_statement(plan, req))).one()._mapping
    else:
        lock = await _windowed_lock(conn, plan, req, window)
    k = len(plan.key)
    position = None if not lock["n"] else (
        lock["last_ts"], *(lock[f"last_k{i}"] for i in range(k)))
    roots = [lock[f"k{i}"] for i in range(k)]
    busy = 0
    taken = int(lock["n"])
    if taken and plan.family is not None:  # a family goes whole: its descendants too
        fam = (await conn.execute(family_statement(plan, roots))).one()._mapping
        roots, busy, taken = [fam[f"k{i}"] for i in range(k)], int(fam["busy"]), int(fam["n"])
        if not taken:
            roots = []
    row = None
    deleted: dict[str, int] = {plan.root.name: 0}
    updated: dict[str, int] = {}
    ids: list[Any] = []
    if taken:
        stmt, layout = delete_statement(plan, req, roots, archive)
        try:
            async with conn.begin_nested():
                row = (await conn.execute(stmt)).one()
        except DB_ERRORS as exc:
            if sqlstate(exc) not in HELD_ELSEWHERE:
                raise
            # a row the prune must delete is held elsewhere (our wait ran out, or PostgreSQL
            # chose us as a deadlock's victim: another prune deleting the same shared rows in
            # another order): lock the tree with SKIP LOCKED, leave the parents with a held row
            # for later, delete the rest (all ours now)
            held = (await conn.execute(classify_statement(plan, req, roots))).one()._mapping
            busy += int(held["busy"])
            taken -= int(held["busy"])
            roots = [held[f"keep_{i}"] for i in range(k)]
            if roots[0] is not None:
                stmt, layout = delete_statement(plan, req, roots, archive)
                row = (await conn.execute(stmt)).one()
        if row is not None:
            ids = _ids(plan, row)
            expected = taken
            if len(ids) != expected:
                raise errors.PruneFailed(_vetoed(plan, expected - len(ids)))
            for i, col in layout.guards.items():
                if row._mapping[col]:
                    s = plan.steps[i]
                    raise errors.GuardTripped(
                        f"a row of {s.name} no longer passed its guard ({s.guard_reason}) when "
                        "it was deleted: it changed while the prune ran; nothing was deleted")
            deleted[plan.root.name] = len(ids)
            for i, col in layout.steps.items():
                name = plan.steps[i].name
                deleted[name] = deleted.get(name, 0) + int(row._mapping[col])
            for j, col in layout.nullified.items():
                name = plan.nullify[j].fk.table
                updated[name] = updated.get(name, 0) + int(row._mapping[col])
            # built only when it will run: on a big plan, building and compiling it costs
            # more than the check
            late = late_statement(plan, req, roots) if ids and has_late(plan) and (
                await conn.execute(others_committed(row._mapping["snapshot"]))).scalar() \
                else None
            if late is not None:
                stmt2, names = late
                extra = (await conn.execute(stmt2)).one()
                for i, col in names.items():
                    name = plan.steps[i].name
                    deleted[name] = deleted.get(name, 0) + int(extra._mapping[col])
    for name in plan.tables(req.cascade_rbac):
        deleted.setdefault(name, 0)
    skipped, reasons = await _skipped(conn, plan, req, ids)
    return PruneResult(
        entity=req.pruner.name, cutoff=req.before, limit=req.limit, count=len(ids), ids=ids,
        deleted=deleted, updated=updated, busy=busy, cascade_rbac=req.cascade_rbac,
        skipped=skipped, skip_reasons=reasons, position=position)


async def _windowed_lock(conn: AsyncConnection, plan: Plan, req: SweepRequest,
                         window: Window) -> Any:
    """A drain's lock step, planned without explicit sorts: the candidates then come in order
    off the boundary's index and the scan stops at the batch's LIMIT. Left to its estimates
    (a window bounded on both ends, statistics that predate the batches already deleted) the
    planner often sorted every remaining row of the window instead, on every batch, so the
    whole drain's lock steps grew with the square of the backlog. (Where no index gives the
    order, a sort is still used: the setting only makes it costlier.)"""
    was = (await conn.execute(sa.select(sa.func.current_setting("enable_sort"),
                                        sa.func.set_config("enable_sort", "off", True)))
           ).scalar_one()
    lock = (await conn.execute(lock_statement(plan, req, window))).one()._mapping
    # (a failed lock step aborts the transaction, and the SET LOCAL goes with it)
    await conn.execute(sa.select(sa.func.set_config("enable_sort", was, True)))
    return lock


def _ids(plan: Plan, row: Any) -> list[Any]:
    cols = [list(row._mapping[f"ids_{i}"] or []) for i in range(len(plan.key))]
    return cols[0] if len(cols) == 1 else list(zip(*cols, strict=True))


def _vetoed(plan: Plan, missing: int) -> str:
    facts = plan.root.facts
    causes = [t.describe() for t in facts.triggers if t.before and "DELETE" in t.events]
    if facts.row_security:
        causes.append("row-level security (policies: "
                      f"{', '.join(p.name for p in facts.policies) or 'none'})")
    why = "; ".join(causes) or "nothing in the catalog explains it"
    return (f"{missing:,} locked {plan.root.name} row(s) were not deleted; the whole prune was "
            f"rolled back. Cause found in the catalog: {why}")


async def _skipped(conn: AsyncConnection, plan: Plan, req: SweepRequest, ids: list[Any],
                   ) -> tuple[list[Any], dict[str, str]]:
    if req.ids is None:
        return [], {}
    gone = set(ids)
    missing = [i for i in req.ids if i not in gone]
    if not missing:
        return [], {}
    sub = candidates(plan, req, limited=False).subquery()
    keys = [sub.c[f"k{i}"] for i in range(len(plan.key))]
    qualified = {tuple(r) if len(keys) > 1 else r[0]
                 for r in await conn.execute(sa.select(*keys))}
    reasons = {}
    for i in missing:
        reasons[str(plain(i))] = ("over the limit" if i in qualified and len(gone) >= req.limit
                                  else "busy" if i in qualified else "did not qualify")
    return missing, reasons


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
    rows older than `before`, with everything its plan says goes with them, in one transaction;
    `ids` restricts the sweep to those rows (each still has to qualify; the rest come back as
    `skipped`). Bad input raises `core.errors.InvalidArgument` before anything runs."""
    req = sweep(pruner, before=before, limit=limit, ids=ids, cascade_rbac=cascade_rbac,
                settings=settings)
    return await execute(db, req, dry_run=dry_run, settings=settings)
