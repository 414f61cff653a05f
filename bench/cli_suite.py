"""Issue 10: a journaled CLI prune against a one-statement SQL floor that deletes the same tree.

The CLI runs in this process, as `pruner` does (`core.cli.main(argv)`, on a worker thread since
it calls `asyncio.run`), so interpreter start-up and imports are excluded: a warm-up command
loads every module first. What is timed is the whole command: parsing, settings, a new engine
and its connection, the plan read from the live catalog (nothing cached: every CLI process
starts cold), the prune, its journal rows, the output line, the engine's disposal. The floor
(`bench.floors.EXPLICIT`) deletes the same tree explicitly: kernels, RBAC rows of sessions and
kernels in both directions, dependency edges in both directions, the sessions; it journals
nothing and returns nothing. Three alternating rounds, each contender on a fresh copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
from collections.abc import Iterator
from datetime import datetime

from bench.contenders import Contender, floor
from bench.floors import sessions_floor
from bench.measure import Row, best, cpu_ratio, timed
from bench.suites import Context, compare
from core.cli import main as cli_main

ROUNDS = 3
TARGET = 1.10
# The CLI reads its bounds from the environment; the defaults guard production, not a bench.
ENV = {"PRUNER_MAX_LIMIT": "10000000", "PRUNER_STATEMENT_TIMEOUT_MS": "3600000",
       "PRUNER_LOCK_TIMEOUT_MS": "60000", "PRUNER_OPERATOR": "bench"}


@contextlib.contextmanager
def cli_env() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ENV}
    os.environ.update(ENV)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_cli(argv: list[str]) -> str:
    """`pruner ARGV` in this process; its stdout; a non-zero exit is an error."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli_main(argv)
    if code != 0:
        raise RuntimeError(f"pruner {' '.join(argv[:2])} exited {code}: {out.getvalue()[:300]}")
    return out.getvalue()


def cli_prune(entity: str, before: datetime, limit: int) -> Contender:
    async def run(url: str) -> tuple[float, object]:
        argv = ["prune", entity, "--before", before.isoformat(), "--limit", str(limit), "--yes",
                "--database-url", url]
        return await timed(lambda: asyncio.to_thread(run_cli, argv))
    return run


async def cli_suite(ctx: Context, template: str, limits: list[int]) -> list[Row]:
    rows: list[Row] = []
    tpl = ctx.templates[template]
    with cli_env():
        await asyncio.to_thread(run_cli, ["check", "sessions", "--database-url",
                                          ctx.bc.url(template)])  # imports, not timed
        for limit in limits:
            cpu: dict[str, list[float]] = {}
            times = await compare(ctx, template, "sessions", {
                "cli": cli_prune("sessions", ctx.before, limit),
                "floor": floor(sessions_floor("explicit"), ctx.before, limit)}, ROUNDS, cpu)
            ratios = [c / f for c, f in zip(times["cli"], times["floor"], strict=True)]
            rows.append(Row(
                "CLI prune", f"`pruner prune sessions --limit {limit:,} --yes`, in-process "
                f"({tpl.rows['sessions']:,} sessions)", best(times["cli"]), best(times["floor"]),
                TARGET, ours_label="CLI", floor_label="explicit floor",
                cpu_ratio=cpu_ratio(cpu, "cli", "floor"),
                note=f"best of {ROUNDS} alternating rounds; per-round ratios "
                     f"{', '.join(f'{r:.2f}' for r in ratios)}; start-up excluded, cold plan "
                     "and connection included"))
    return rows
