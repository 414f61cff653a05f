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
    """`pruners` in an order where a pruner whose table another's plan reaches runs first: the
    rows that block a parent (routings before the sessions and endpoints they hold) and a
    child's own pruner before its parent's (its terminal children go by its own rules first);
    in a cycle (routings and sessions block each other) the one that waits on fewer, then by
    name. Plans come from the live catalog (one read transaction)."""
    reaches: dict[str, set[str]] = {}  # tables a pruner's plan deletes from or is blocked by
    roots: dict[str, str] = {}
    async with transaction(db, "reading the plans") as conn:
        for p in pruners:
            plan = await current_plan(conn, p)
            roots[p.name] = plan.root.facts.relname
            reaches[p.name] = ({b.table.name for b in plan.blocks}
                               | {s.facts.relname for s in plan.steps[1:]})
    ordered: list[Pruner] = []
    left = sorted(pruners, key=lambda p: p.name)
    while left:  # each time the pruner that waits on the fewest others left (a cycle: by name)
        def waits_on(p: Pruner) -> int:
            return sum(1 for q in left if q is not p and roots[q.name] != roots[p.name]
                       and roots[q.name] in reaches[p.name])
        nxt = min(left, key=waits_on)
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
