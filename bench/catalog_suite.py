"""Issue 10: the share of a prune spent on its plan (catalog read + plan build, or the cached
plan's fingerprint check), measured inside real prunes.

The executor's `current_plan` is wrapped for the suite, so the time is the plan step of the very
prune being timed. On each fresh copy: a prune on a *cold* engine (connected, nothing cached:
the catalog is read and the plan built, as a new CLI process does), then a prune on the same,
now *warm* engine (the plan comes from the cache after one fingerprint query, as in a console
or a drain). Both prunes take `limit` rows; the share is plan time / whole prune time.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.contenders import SETTINGS, _warm_engine
from bench.measure import Row, best
from bench.suites import Context
from core import execute_pruner, registry
from core.repository.pruner import executor

TARGET = 0.02  # "a 10k-row prune spends under 2% of its time on it" (warm)


def _timing(spent: list[float]) -> Callable[..., Awaitable[Any]]:
    real = executor.current_plan

    async def timed_plan(conn: Any, pruner: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return await real(conn, pruner)
        finally:
            spent.append(time.perf_counter() - t0)
    return timed_plan


async def _prune(engine: Any, entity: str, ctx: Context, limit: int,
                 spent: list[float]) -> tuple[float, float, int]:
    spent.clear()
    t0 = time.perf_counter()
    r = await execute_pruner(engine, registry.get(entity), before=ctx.before, limit=limit,
                             settings=SETTINGS)
    return time.perf_counter() - t0, sum(spent), r.count


async def catalog_suite(ctx: Context, template: str, entity: str, limit: int) -> list[Row]:
    spent: list[float] = []
    real = executor.current_plan
    executor.current_plan = _timing(spent)  # type: ignore[assignment]
    got: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": []}
    try:
        for _ in range(ctx.repeats + 1):
            with ctx.bc.copy_of(template) as url:
                engine = await _warm_engine(url)  # connected; no plan cached
                try:
                    for state in ("cold", "warm"):
                        total, plan, n = await _prune(engine, entity, ctx, limit, spent)
                        if n != limit:
                            raise AssertionError(f"{state} prune took {n:,} rows, not {limit:,}")
                        got[state].append((plan, total))
                        ctx.log(f"  catalog {state}: plan {plan * 1000:.1f} ms of "
                                f"{total:.3f} s ({plan / total:.2%})")
                finally:
                    await engine.dispose()
    finally:
        executor.current_plan = real  # type: ignore[assignment]
    rows = []
    for state, what in (("cold", "catalog read + plan build (new engine)"),
                        ("warm", "cached plan: fingerprint check (same engine)")):
        plans, totals = [p for p, _ in got[state]], [t for _, t in got[state]]
        shares = sorted(p / t for p, t in got[state])
        rows.append(Row(
            "Catalog share", f"{entity}: {limit:,}-row prune, {what}", best(plans),
            best(totals), TARGET if state == "warm" else None,
            ours_label="plan step", floor_label="whole prune",
            note=f"ratio = share of the prune (best plan step / best prune); median share "
                 f"{shares[len(shares) // 2]:.2%} over {len(shares)} prunes, each on a fresh "
                 "copy"))
    return rows
