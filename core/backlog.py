"""A whole backlog in one run: several pruners drained one after another, in an order where
no pruner waits on rows another one would remove (`order_for_drain`), under one budget.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from core.db import Database, transaction
from core.drain import Cancel, DrainResult, drain
from core.repository.pruner import Pruner, SweepRequest
from core.repository.pruner.planner import current_plan


async def order_for_drain(db: Database, pruners: Sequence[Pruner]) -> list[Pruner]:
    """`pruners` in an order where a pruner whose rows block another's runs first (routings
    before the sessions they hold, a child's own pruner before its parent's); otherwise by
    name. Plans come from the live catalog (one read transaction)."""
    blocking: dict[str, set[str]] = {}
    roots: dict[str, str] = {}
    async with transaction(db, "reading the plans") as conn:
        for p in pruners:
            plan = await current_plan(conn, p)
            roots[p.name] = plan.root.facts.relname
            blocking[p.name] = {b.table.name for b in plan.blocks}
    ordered: list[Pruner] = []
    left = sorted(pruners, key=lambda p: p.name)
    while left:
        ready = [p for p in left if not any(
            roots[q.name] in blocking[p.name] for q in left if q is not p)]
        nxt = ready[0] if ready else left[0]  # a cycle: keep the name order
        ordered.append(nxt)
        left.remove(nxt)
    return ordered


async def drain_many(db: Database, requests: Sequence[SweepRequest], *,
                     max_batches: int | None = None, max_seconds: float | None = None,
                     cancel: Cancel | None = None, **kwargs: Any) -> list[DrainResult]:
    """Drain each request in turn (give them in `order_for_drain`'s order), each with its own
    drain id. `max_batches` and `max_seconds` bound the whole run, not each drain. Stops after
    the first drain that did not end `done` (failed, stopped, or out of budget): the results so
    far come back, the last one saying why. Other arguments as `core.drain.drain`."""
    out: list[DrainResult] = []
    started = time.monotonic()
    for req in requests:
        batches = None if max_batches is None else max_batches - sum(r.batches for r in out)
        seconds = None if max_seconds is None else max_seconds - (time.monotonic() - started)
        if out and ((batches is not None and batches <= 0)
                    or (seconds is not None and seconds <= 0)
                    or (cancel is not None and cancel.is_set())):
            break
        result = await drain(db, req, max_batches=batches,
                             max_seconds=None if seconds is None else max(seconds, 0.001),
                             cancel=cancel, **kwargs)
        out.append(result)
        if result.stopped != "done":
            break
    return out
