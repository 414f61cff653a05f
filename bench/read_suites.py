"""Preview against one aggregate statement; memory per operation; the console page."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg

from bench.contenders import SETTINGS, _warm_engine
from bench.floors import dsn
from bench.measure import Row, best
from bench.preview_floor import preview_floor
from bench.suites import Context
from core import registry, sweep
from core.preview import preview

ROOT = Path(__file__).resolve().parent.parent
PREVIEW_LIMIT = 100_000
SAMPLE = 100


def _check_same(entity: str, ours: Any, floor: dict[str, Any]) -> None:
    bins = json.loads(floor["histogram"] or "[]")
    total = sum(b["n"] for b in bins)
    want = {"candidates": total, "oldest": floor["lo"], "newest": floor["hi"],
            "sample": len(json.loads(floor["sample"] or "[]"))}
    got = {"candidates": ours.candidates, "oldest": ours.oldest, "newest": ours.newest,
           "sample": len(ours.sample)}
    if entity == "sessions":
        want["cascade"] = {"sessions": floor["sessions"], "kernels": floor["kernels"],
                           "session_dependencies": floor["deps"],
                           "association_scopes_entities": floor["rbac"]}
        got["cascade"] = ours.cascade
    else:
        want["cascade"] = {"audit_logs": floor["audit_logs"]}
        got["cascade"] = ours.cascade
    if got != want:
        raise AssertionError(f"preview of {entity} disagrees with the floor: {got} != {want}")


async def preview_suite(ctx: Context, cases: list[tuple[str, str]]) -> list[Row]:
    rows: list[Row] = []
    for entity, name in cases:
        tpl, pruner = ctx.templates[name], registry.get(entity)
        url = ctx.bc.url(name)  # read-only work: the template itself, no copy needed
        engine = await _warm_engine(url)
        conn = await asyncpg.connect(dsn(url))
        ours_t: list[float] = []
        floor_t: list[float] = []
        try:
            for _ in range(ctx.repeats + 1):  # one extra round: both start from a warm cache
                t0 = time.perf_counter()
                req = sweep(pruner, before=ctx.before, limit=PREVIEW_LIMIT, settings=SETTINGS)
                p = await preview(engine, req, sample_size=SAMPLE, settings=SETTINGS)
                t1 = time.perf_counter()
                f = await preview_floor(conn, entity, ctx.before, PREVIEW_LIMIT, p.bin_width,
                                        SAMPLE)
                t2 = time.perf_counter()
                _check_same(entity, p, f)
                ours_t.append(t1 - t0)
                floor_t.append(t2 - t1)
                ctx.log(f"  preview {name}: pruner {t1 - t0:.3f}s floor {t2 - t1:.3f}s")
        finally:
            await conn.close()
            await engine.dispose()
        size = tpl.rows[entity]
        rows.append(Row("Preview", f"{entity}, {size:,} rows, {p.candidates:,} candidates "
                        f"({p.candidates / size:.0%}), limit {PREVIEW_LIMIT:,}",
                        best(ours_t), best(floor_t), 1.5,
                        note=f"{len(p.histogram)} bins of {p.bin_width}; sample {SAMPLE}"))
    return rows


def _child(url: str, op: str, entity: str, n: int) -> dict[str, int]:
    out = subprocess.run([sys.executable, "-m", "bench.mem_child", url, op, entity, str(n)],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


async def memory_suite(ctx: Context, cases: list[tuple[str, str]],
                       prune_limits: list[int]) -> list[str]:
    """Markdown lines: peak RSS of a preview and of prunes, one process each, as tables grow."""
    lines = ["| table | rows | operation | rows returned | baseline RSS | peak RSS | growth |",
             "|---|---:|---|---:|---:|---:|---:|"]
    for entity, name in cases:
        tpl = ctx.templates[name]
        jobs: list[tuple[str, int]] = [("preview", PREVIEW_LIMIT)]
        jobs += [("prune", n) for n in prune_limits]
        for op, n in jobs:
            if op == "preview":
                m = await asyncio.to_thread(_child, ctx.bc.url(name), op, entity, n)
            else:
                with ctx.bc.copy_of(name) as url:
                    m = await asyncio.to_thread(_child, url, op, entity, n)
            grow = (m["peak_kb"] - m["baseline_kb"]) / 1024
            lines.append(f"| {entity} | {tpl.rows[entity]:,} | {op} (limit {n:,}) | "
                         f"{m['rows']:,} | {m['baseline_kb'] / 1024:.0f} MiB | "
                         f"{m['peak_kb'] / 1024:.0f} MiB | +{grow:.0f} MiB |")
            ctx.log(f"  memory {name} {op} {n}: {m}")
    return lines
