"""Issue 11: drains.

    drain_suite    a whole backlog drained in journaled batches (`core.drain.drain`) against one
                   floor statement deleting every candidate, on age-shuffled data (the demo's
                   seed: a session's age is independent of where it sits in the table) and on
                   time-ordered data (ages follow insertion order, as a platform writes them)
    prefix_suite   the same batches of a drain behind many old blocked rows and with none: the
                   drain's keyset window passes the blocked rows once, not on every batch
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench.contenders import SETTINGS, floor, with_engine
from bench.floors import sessions_floor
from bench.measure import Row, best, cpu_ratio
from bench.suites import SESSIONS, Context, compare
from core import sweep
from core.drain import DrainProgress, drain


async def _drain(engine: Any, ctx: Context, batch: int, marks: list[float] | None = None,
                 ) -> int:
    """The drain, journaled as the CLI and the console run it. `marks` gets the time of the start
    and of each batch's end (its progress report)."""
    def progress(_: DrainProgress) -> None:
        if marks is not None:
            marks.append(time.perf_counter())

    if marks is not None:
        marks.append(time.perf_counter())
    result = await drain(engine, sweep(SESSIONS, before=ctx.before, limit=batch,
                                       settings=SETTINGS), settings=SETTINGS, progress=progress)
    if result.stopped != "done":
        raise AssertionError(f"the drain stopped: {result.stopped} {result.error}")
    if result.ids_file is not None:
        result.ids_file.unlink(missing_ok=True)
    return result.count


async def drain_suite(ctx: Context, templates: list[tuple[str, str]], batch: int,
                      repeats: int = 1) -> list[Row]:
    rows = []
    for label, name in templates:
        tpl = ctx.templates[name]
        cpu: dict[str, list[float]] = {}
        times = await compare(ctx, name, "sessions", {
            "drain": with_engine(lambda e: _drain(e, ctx, batch), SESSIONS),
            "floor": floor(sessions_floor(ctx.best_floor), ctx.before, 2**31 - 1)}, repeats, cpu)
        rows.append(Row("Drain", f"{label}: every candidate of {tpl.rows['sessions']:,} "
                        f"sessions, batches of {batch:,} (core.drain, journaled)",
                        best(times["drain"]), best(times["floor"]), 1.15,
                        cpu_ratio=cpu_ratio(cpu, "drain", "floor"),
                        note=f"floor = one {ctx.best_floor} delete of every candidate; "
                             f"best of {repeats}"))
    return rows


async def prefix_suite(ctx: Context, blocked: str, clear: str, batch: int) -> list[Row]:
    """Batch times of the same drain behind `blocked`'s old blocked rows and in `clear`, where
    they do not exist. A batch is the time between two progress reports (prune, journal, stop
    check); the drain's start (its estimate and window) is reported on its own line."""
    marks: dict[str, list[list[float]]] = {blocked: [], clear: []}

    def contender(name: str) -> Any:
        async def work(engine: Any) -> int:
            m: list[float] = []
            n = await _drain(engine, ctx, batch, m)
            marks[name].append(m)
            return n
        return with_engine(work, SESSIONS)

    for _ in range(ctx.repeats):
        for name in (blocked, clear):
            await compare(ctx, name, "sessions", {name: contender(name)}, 1)

    def batches(name: str) -> list[float]:  # per batch, the best over the repeats
        per = [[b - a for a, b in zip(m[1:], m[2:], strict=False)] for m in marks[name]]
        return [min(ts) for ts in zip(*per, strict=True)]

    def first(name: str) -> float:  # start of the drain to the end of its first batch
        return min(m[1] - m[0] for m in marks[name])

    nb = ctx.templates[blocked].rows["routings"]
    later_b, later_c = batches(blocked), batches(clear)
    return [
        Row("Blocked prefix", f"a later batch of {batch:,} behind {nb:,} blocked sessions "
            "(median over the drain)", statistics.median(later_b),
            statistics.median(later_c), 1.3, floor_label="no blocked rows",
            note=f"{len(later_b) + 1} batches each; slowest later batch "
                 f"{max(later_b):.3f} s vs {max(later_c):.3f} s"),
        Row("Blocked prefix", f"the drain's start and first batch behind {nb:,} blocked "
            "sessions", first(blocked), first(clear), None, floor_label="no blocked rows",
            note="estimate + window + first batch: the blocked rows are passed here, once"),
    ]
