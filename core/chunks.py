"""A parent too big for one statement, pruned on request in child chunks — NOT atomic.

A parent whose child set cannot be deleted within the statement timeout (one project with
600,000 sessions, a session with a million kernels) is parked by a drain. On request, its
children go in chunks: each chunk is its own transaction, journaled as a run of kind 'chunk'
(what it deleted, no parent id), taking up to `chunk_size` rows of one table right under the
parent, with SKIP LOCKED, and everything below them. Each chunk first locks the parent and
checks that it still qualifies; when it does not any more (it came back to life, it is held
elsewhere), the chunked prune stops: the chunks committed so far stay committed. Last, the
parent goes by an ordinary journaled prune, with what is left of its tree.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core import errors, journal
from core.db import Database, transaction
from core.operations import Retry, check_operator, check_reason, journal_ready, prune
from core.repository.pruner import PruneResult, SweepRequest
from core.repository.pruner.deletes import chunk_statement
from core.repository.pruner.planner import current_plan
from core.repository.pruner.statements import local_settings, lock_statement
from core.settings import PruneSettings

MAX_CHUNK = 1_000_000


class ChunksCommitted(errors.PruneFailed):
    """The chunked prune failed after some chunks were committed; `result` says what they
    deleted (their run ids, per-table counts)."""

    def __init__(self, message: str, result: ChunkedResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass
class ChunkedResult:
    entity: str
    key: str
    chunks: list[int] = field(default_factory=list)  # the chunk runs' ids, in order
    deleted: dict[str, int] = field(default_factory=dict)  # by the chunks and the last prune
    final: PruneResult | None = None  # the parent's own prune (None: it did not get there)

    def to_dict(self) -> dict[str, Any]:
        return {"entity": self.entity, "key": self.key, "chunks": self.chunks,
                "deleted": self.deleted,
                "run_id": self.final.run_id if self.final else None,
                "count": self.final.count if self.final else 0}


async def prune_in_chunks(db: Database, req: SweepRequest, *, chunk_size: int = 10_000,
                          operator: str | None = None, reason: str = "",
                          settings: PruneSettings | None = None, retry: Retry | None = None,
                          progress: Callable[[ChunkedResult], None | Awaitable[None]] | None = None,
                          ) -> ChunkedResult:
    """Prune the one parent `req.ids` names: its children in chunks of `chunk_size` rows (each a
    journaled transaction of its own), then the parent (see the module's text: not atomic).

    Raises InvalidArgument unless `req` names exactly one id and `chunk_size` is 1..1,000,000;
    PruneFailed when the parent stops qualifying or is held elsewhere, other PrunerErrors as
    `prune`; any failure after a chunk was committed is ChunksCommitted (what they deleted)."""
    if req.ids is None or len(req.ids) != 1:
        raise errors.InvalidArgument("a chunked prune takes exactly one parent (one id)")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or not (
            1 <= chunk_size <= MAX_CHUNK):
        raise errors.InvalidArgument(f"chunk_size must be a whole number from 1 to "
                                     f"{MAX_CHUNK:,}")
    operator = check_operator(operator)
    reason = check_reason(reason)
    await journal_ready(db)
    out = ChunkedResult(entity=req.pruner.name, key=journal.id_text(req.ids[0]))
    async with transaction(db, f"reading the plan of {req.pruner.name}") as conn:
        tops = [s.index for s in (await current_plan(conn, req.pruner)).steps
                if s.parent == 0 and (req.cascade_rbac or not s.rbac)]
    try:
        for top in tops:
            while await _chunk(db, req, top, chunk_size, out, operator, reason, settings) \
                    >= chunk_size:
                if progress is not None and inspect.isawaitable(step := progress(out)):
                    await step
        out.final = await prune(db, req, operator=operator, reason=reason, settings=settings,
                                retry=retry)
    except errors.PrunerError as exc:
        if not out.chunks:
            raise
        raise ChunksCommitted(
            f"{exc}; the {len(out.chunks)} chunk run(s) committed before it (runs "
            f"{out.chunks[0]}..{out.chunks[-1]}) deleted {_fmt(out.deleted)}", out) from exc
    for table, n in out.final.deleted.items():
        out.deleted[table] = out.deleted.get(table, 0) + n
    return out


async def _chunk(db: Database, req: SweepRequest, top: int, size: int, out: ChunkedResult,
                 operator: str, reason: str, settings: PruneSettings | None) -> int:
    """One chunk of step `top`'s rows, committed and journaled; returns how many it took."""
    name = req.pruner.name
    async with transaction(db, f"chunk of {name} {out.key}") as conn:
        await conn.execute(local_settings(settings or PruneSettings()))
        plan = await current_plan(conn, req.pruner)
        lock = (await conn.execute(lock_statement(plan, req))).one()._mapping
        if not lock["n"]:
            raise errors.PruneFailed(f"{name} {out.key} no longer qualifies or is held "
                                     "elsewhere: the chunked prune stopped")
        roots = [lock[f"k{i}"] for i in range(len(plan.key))]
        step = plan.steps[top]
        stmt, layout = chunk_statement(plan, req, roots, step, size)
        row = (await conn.execute(stmt)).one()._mapping
        for i, col in layout.guards.items():
            if row[col]:
                raise errors.GuardTripped(
                    f"a row of {plan.steps[i].name} no longer passed its guard "
                    f"({plan.steps[i].guard_reason}); this chunk was rolled back")
        deleted: dict[str, int] = {}
        for i, col in layout.steps.items():
            t = plan.steps[i].name
            deleted[t] = deleted.get(t, 0) + int(row[col])
        taken = int(row[layout.steps[top]])
        if not taken:
            return 0
        rec = journal.RunRecord(entity=name, kind="chunk", cutoff=req.before, limit=size,
                                cascade_rbac=req.cascade_rbac, operator=operator,
                                reason=reason, started_at=datetime.now(UTC))
        run_id = await journal.record(conn, rec, status="succeeded", count=0, deleted=deleted)
    out.chunks.append(run_id)
    for table, n in deleted.items():
        out.deleted[table] = out.deleted.get(table, 0) + n
    return taken


def _fmt(counts: dict[str, int]) -> str:
    return ", ".join(f"{t}: {n:,}" for t, n in counts.items() if n) or "nothing"
