"""`python -m bench [--quick]`: start a throwaway cluster, seed, compare, write docs/benchmarks.md.

The generated tables replace only the block between this mode's markers in the document, so the
hand-written analysis around them survives a re-run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import console_suite
from bench.airflow_suite import airflow_suite
from bench.bounded_suite import bounded_suite
from bench.catalog_suite import catalog_suite
from bench.cli_suite import cli_suite
from bench.cluster import BenchCluster
from bench.contenders import _warm_engine
from bench.data import Template, logs_template, sessions_template
from bench.drain_suite import drain_suite, prefix_suite
from bench.measure import Row
from bench.read_suites import memory_suite, preview_suite
from bench.report import Report, machine_facts
from bench.shapes import blocked_template
from bench.suites import Context, growth_suite, prune_throughput
from core import health, sweep

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


@dataclass(frozen=True)
class Sizes:
    sessions_big: int
    sessions_small: int
    logs: tuple[int, ...]
    prune_limits: tuple[int, ...]
    drain_batch: int
    growth_limit: int
    repeats: int
    prefix: tuple[int, int, int]  # blocked rows, candidates behind them, batch size
    bounded_blocked: int  # blocked rows beside one candidate
    airflow_runs: int


FULL = Sizes(1_200_000, 120_000, (100_000, 1_000_000, 10_000_000), (100_000, 1_000_000),
             10_000, 10_000, 2, (300_000, 20_000, 1_000), 500_000, 20_000)
# The largest that fits the time of a shared 2-core box: a third of FULL's sessions, the
# issue's 300k blocked prefix and 500k blocked rows beside one candidate.
MID = Sizes(400_000, 40_000, (100_000, 1_000_000, 4_000_000), (100_000, 400_000), 10_000,
            10_000, 2, (300_000, 20_000, 1_000), 500_000, 10_000)
QUICK = Sizes(120_000, 12_000, (10_000, 100_000, 1_000_000), (10_000, 100_000), 10_000, 1_000, 2,
              (30_000, 2_000, 100), 50_000, 2_000)


class _Skipped(Exception):
    """A suite left out by --only."""


def _log(msg: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def _logs_name(n: int) -> str:
    return f"logs_{n}"


async def run(sizes: Sizes, mode: str, command: str, only: set[str] | None = None) -> Report:
    started = time.monotonic()
    load_start = os.getloadavg()[0]
    bc = BenchCluster.create()
    try:
        templates: dict[str, Template] = {}
        for key, n in (("sessions_big", sizes.sessions_big),
                       ("sessions_small", sizes.sessions_small)):
            _log(f"seeding {key}: {n:,} sessions")
            templates[key] = await sessions_template(bc, key, n)
        _log(f"seeding sessions_ordered: {sizes.sessions_big:,} sessions, in time order")
        templates["sessions_ordered"] = await sessions_template(
            bc, "sessions_ordered", sizes.sessions_big, time_ordered=True)
        for n in sizes.logs:
            _log(f"seeding audit_logs: {n:,} rows")
            templates[_logs_name(n)] = await logs_template(bc, _logs_name(n), n)
        blocked, behind, prefix_batch = sizes.prefix
        for key, b, c in (("prefix_blocked", blocked, behind), ("prefix_clear", 0, behind),
                          ("bounded", sizes.bounded_blocked, 1)):
            _log(f"seeding {key}: {b:,} blocked sessions, {c:,} candidates")
            templates[key] = await blocked_template(bc, key, blocked=b, candidates=c)
        ctx = Context(bc, datetime.now(UTC), templates, sizes.repeats, _log)
        engine = await _warm_engine(bc.url("sessions_big"))
        version = await health.server_version(engine)
        missing = await health.missing_fk_indexes(engine)
        plan = await health.candidate_plan(
            engine, sweep(ctx_pruner(), before=ctx.before, limit=sizes.growth_limit))
        await engine.dispose()

        report = Report(mode, command, machine_facts(version), list(templates.values()))
        big_logs, mid_logs = _logs_name(sizes.logs[-1]), _logs_name(sizes.logs[-2])
        bounded_memory: list[str] = []

        async def bounded() -> list[Row]:
            rows, lines = await bounded_suite(ctx, "bounded")
            bounded_memory.extend(lines)
            return rows

        series = [("sessions", "sessions_small"), ("sessions", "sessions_big")]
        series += [("audit_logs", _logs_name(n)) for n in sizes.logs]
        suites: list[tuple[str, Callable[[], Awaitable[list[Row]]]]] = [
            ("Prune throughput", lambda: prune_throughput(ctx, list(sizes.prune_limits))),
            ("Preview", lambda: preview_suite(ctx, [("sessions", "sessions_big"),
                                                    ("audit_logs", mid_logs),
                                                    ("audit_logs", big_logs)])),
            ("Drain", lambda: drain_suite(ctx, [
                ("age-shuffled (the demo's seed)", "sessions_big"),
                ("time-ordered", "sessions_ordered")], sizes.drain_batch)),
            ("Blocked prefix", lambda: prefix_suite(ctx, "prefix_blocked", "prefix_clear",
                                                    prefix_batch)),
            ("Growth", lambda: growth_suite(ctx, series, sizes.growth_limit)),
            ("Catalog share", lambda: catalog_suite(ctx, "sessions_big", "sessions", 10_000)),
            ("CLI prune", lambda: cli_suite(ctx, "sessions_big", list(sizes.prune_limits))),
            ("Preview bounded", bounded),
            ("Airflow", lambda: airflow_suite(ctx, sizes.airflow_runs)),
        ]
        def wanted(name: str) -> bool:
            return only is None or name.lower() in only

        for name, suite in suites:
            if not wanted(name):
                continue
            _log(name)
            try:
                report.rows += await suite()
            except Exception as exc:  # one broken suite must not cost the others' figures
                _log(f"{name} failed: {exc!r}")
                report.rows.append(Row(name, "suite failed", None, None,
                                       note=f"{type(exc).__name__}: {exc}"[:300]))
        _log("memory")
        try:
            if not wanted("memory"):
                raise _Skipped
            report.memory = await memory_suite(
                ctx, [("sessions", "sessions_small"), ("sessions", "sessions_big"),
                      ("audit_logs", mid_logs), ("audit_logs", big_logs)],
                [min(10_000, sizes.prune_limits[0]), 100_000]) + bounded_memory
        except _Skipped:
            report.memory = ["(not run: --only)"]
        except Exception as exc:
            _log(f"memory failed: {exc!r}")
            report.memory = [f"Memory suite failed: {type(exc).__name__}: {exc}"[:300]]
        # Last: the console keeps a pooled connection to the template (no more copies after).
        _log("Console")
        try:
            if not wanted("console"):
                raise _Skipped
            report.rows += await console_suite.run(ctx, "sessions_big")
        except _Skipped:
            pass
        except Exception as exc:
            _log(f"console failed: {exc!r}")
            report.rows.append(Row("Console", "suite failed", None, None,
                                   note=f"{type(exc).__name__}: {exc}"[:300]))
        report.extra = [
            "### Plans and indexes (core.health on the big sessions template)", "",
            f"- FK columns without a leading index: {len(missing)}"
            + (": " + ", ".join(f"{m.table}({', '.join(m.columns)})" for m in missing)
               if missing else ""),
            f"- sessions candidate plan for limit {sizes.growth_limit:,}: full scans "
            f"{list(plan.full_scans) or 'none'}", "", "```", plan.plan, "```",
        ]
        report.templates = list(ctx.templates.values())  # suites may have seeded more
        report.minutes = (time.monotonic() - started) / 60
        facts = "\n".join(report.facts).replace("{load_start}", f"{load_start:.2f}")
        report.facts = facts.replace("{load_end}", f"{os.getloadavg()[0]:.2f}").split("\n")
        return report
    finally:
        bc.destroy()


def ctx_pruner():  # noqa: ANN201 - a Pruner; kept out of module import time
    from core import registry

    return registry.get("sessions")


def write(report: Report, mode: str, path: Path = DOC) -> None:
    start, end = f"<!-- bench:{mode}:start -->", f"<!-- bench:{mode}:end -->"
    block = f"{start}\n{report.markdown()}\n{end}"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if start in text and end in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: block, text,
                      flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true",
                      help="10x smaller data (~10 minutes instead of ~60)")
    size.add_argument("--mid", action="store_true",
                      help="400k sessions, limits 100k and 400k (~35 minutes)")
    ap.add_argument("--out", type=Path, default=DOC, help="markdown file to update")
    ap.add_argument("--only", action="append", metavar="SUITE",
                    help="run only this suite (repeatable; e.g. 'prune throughput', drain, "
                         "'cli prune', airflow, memory, console); for iterating, not for the "
                         "published figures")
    args = ap.parse_args()
    mode = "quick" if args.quick else "mid" if args.mid else "full"
    command = ".venv/bin/python -m bench" + ("" if mode == "full" else f" --{mode}")
    only = {o.lower() for o in args.only} if args.only else None
    sizes = {"quick": QUICK, "mid": MID, "full": FULL}[mode]
    report = asyncio.run(run(sizes, mode, command, only))
    write(report, mode, args.out)
    print(report.markdown())


if __name__ == "__main__":
    main()
