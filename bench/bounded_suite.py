"""Issue 10: a preview returns bounded data whatever the table holds.

One candidate beside 500,000 old blocked sessions (`bench.shapes`): the preview (histogram,
cascade, sample, blocked sample) against the one-statement preview floor, in this process (time,
best of the repeats after a warm-up round), and in a process of its own (`bench.mem_child`): the
most rows any one of its statements returned, and its peak memory.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg

from bench.contenders import SETTINGS, _warm_engine
from bench.floors import dsn
from bench.measure import Row, best
from bench.preview_floor import preview_floor
from bench.read_suites import SAMPLE, _child
from bench.suites import Context
from core import registry, sweep
from core.preview import preview

LIMIT = 1_000
MAX_ROWS = 100  # "bounded": ~60 bins, a page of SAMPLE rows, 20 blocked rows


async def bounded_suite(ctx: Context, template: str) -> tuple[list[Row], list[str]]:
    url = ctx.bc.url(template)
    pruner = registry.get("sessions")
    engine = await _warm_engine(url, pruner)
    conn = await asyncpg.connect(dsn(url))
    ours_t: list[float] = []
    floor_t: list[float] = []
    try:
        for _ in range(ctx.repeats + 1):  # the first round warms both
            t0 = time.perf_counter()
            p = await preview(engine, sweep(pruner, before=ctx.before, limit=LIMIT,
                                            settings=SETTINGS), sample_size=SAMPLE,
                              settings=SETTINGS)
            t1 = time.perf_counter()
            await preview_floor(conn, "sessions", ctx.before, LIMIT, p.bin_width, SAMPLE)
            ours_t.append(t1 - t0)
            floor_t.append(time.perf_counter() - t1)
            ctx.log(f"  bounded preview: pruner {ours_t[-1]:.3f}s floor {floor_t[-1]:.3f}s")
    finally:
        await conn.close()
        await engine.dispose()
    m = await asyncio.to_thread(_child, url, "preview", "sessions", LIMIT)
    grow = (m["peak_kb"] - m["baseline_kb"]) / 1024
    rows = [Row("Preview bounded", f"{p.candidates:,} candidate beside {p.blocked:,} blocked "
                f"sessions, limit {LIMIT:,}", best(ours_t[1:]), best(floor_t[1:]), None,
                floor_label="preview floor",
                note=f"{len(p.histogram)} bins; most rows from one statement: "
                     f"{m['max_rows']:,} (bound {MAX_ROWS}); peak RSS +{grow:.0f} MiB")]
    if m["max_rows"] > MAX_ROWS:
        rows[0].note += " — NOT BOUNDED"
    lines = [f"| sessions (1 candidate, {p.blocked:,} blocked) | {p.blocked + 1:,} | preview "
             f"(limit {LIMIT:,}) | {m['max_rows']:,} (most from one statement) | "
             f"{m['baseline_kb'] / 1024:.0f} MiB | {m['peak_kb'] / 1024:.0f} MiB | "
             f"+{grow:.0f} MiB |"]
    return rows, lines
