"""The console's Candidates page under Streamlit AppTest, against the preview call alone.

The page's own preview call is wrapped to record its arguments and time, so the comparison is
the page render against the very query it made; a standalone call with the same arguments is
timed too. A first render warms imports and the console's runtime; the timed renders start with
the preview cache cleared, so each one really queries.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from bench.contenders import _warm_engine
from bench.measure import Row, best
from bench.suites import Context
from core.preview import preview

APP = Path(__file__).resolve().parent.parent / "console" / "app.py"


try:  # imported up front (see bench.suites); absent before console/ existed
    from streamlit.testing.v1 import AppTest

    import console.previews as previews
except ImportError:
    previews = None


def _render(url: str, calls: list[dict[str, Any]]) -> tuple[float, list[str]]:
    real = previews.preview

    async def recorded(db: Any, req: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        out = await real(db, req, **kw)
        calls.append({"req": req, "kw": kw, "seconds": time.perf_counter() - t0,
                      "candidates": out.candidates})
        return out

    previews.preview = recorded
    os.environ["PRUNER_DATABASE_URL"] = url
    try:
        previews.cached_preview.clear()
        at = AppTest.from_file(str(APP), default_timeout=600)
        t0 = time.perf_counter()
        at.run()
        seconds = time.perf_counter() - t0
        errors = [e.value for e in at.exception] + [e.value for e in at.error]
        return seconds, [str(e) for e in errors]
    finally:
        previews.preview = real


async def run(ctx: Context, template: str) -> list[Row]:
    if previews is None or not APP.exists():
        return [Row("Console", "Candidates page via AppTest", None, None, 1.3,
                    note="TODO: console/app.py did not exist when this ran")]
    url = ctx.bc.url(template)
    calls: list[dict[str, Any]] = []
    await asyncio.to_thread(_render, url, calls)  # warm-up: imports, runtime, first connection
    pages, inside, alone = [], [], []
    engine = await _warm_engine(url, *(c["req"].pruner for c in calls[-1:]))
    try:
        for _ in range(ctx.repeats):
            calls.clear()
            seconds, errors = await asyncio.to_thread(_render, url, calls)
            if errors or not calls:
                return [Row("Console", "Candidates page via AppTest", None, None, 1.3,
                            note=f"page did not render a preview: {errors or 'no preview call'}")]
            pages.append(seconds)
            inside.append(calls[-1]["seconds"])
            c = calls[-1]
            t0 = time.perf_counter()
            await preview(engine, c["req"], **c["kw"])
            alone.append(time.perf_counter() - t0)
            ctx.log(f"  console page {seconds:.3f}s, its preview {c['seconds']:.3f}s, "
                    f"preview alone {alone[-1]:.3f}s")
    finally:
        await engine.dispose()
    n = calls[-1]["candidates"]
    return [Row("Console", f"Candidates page via AppTest, {n:,} candidates", best(pages),
                best(alone), 1.3, floor_label="preview alone",
                note=f"the page's own preview call took {best(inside):.3f}s of its render; "
                     f"limit {calls[-1]['req'].limit:,}")]
