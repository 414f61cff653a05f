"""Issue 11: clearing the backlog `airflow db clean --tables dag_run` clears, four ways, each on a
fresh copy of one seeded Airflow database (`bench.airflow_data`), every table ending with the
same row count:

    in-process  `core.drain.drain_many` over `order_for_drain` of the six pruners of
                `bench.airflow_pruners`, on a connected engine (plans read in the call)
    CLI         `pruner drain P1 … P6 --yes` as one process, start-up included (where the CLI
                takes one entity per call, six processes; the row says so)
    airflow     `airflow db clean --tables dag_run --clean-before-timestamp … --skip-archive
                --yes`, one process, start-up included
    floor       one transaction: the finished runs older than the cutoff (ON DELETE CASCADE
                takes the rest), then what the other five tables still hold that is that old

`python -m bench.airflow_suite --install` creates Airflow's venv (`bench/.airflow`, gitignored);
`python -m bench.airflow_suite [--runs N]` runs this suite alone.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench import airflow_pruners
from bench.airflow_data import AIRFLOW, VENV, VERSION, airflow_env, airflow_template, installed
from bench.contenders import SETTINGS, Contender, _warm_engine
from bench.floors import dsn
from bench.measure import Row, best, cpu_ratio, timed
from bench.suites import Context, compare
from core import registry, sweep
from core.backlog import drain_many, order_for_drain

ROOT = Path(__file__).resolve().parent.parent
BATCH = 10_000
FLOOR = [
    "DELETE FROM dag_run WHERE state IN ('success', 'failed') AND start_date < $1",
    "DELETE FROM task_instance WHERE state IN ('success', 'failed', 'skipped', "
    "'upstream_failed', 'removed') AND start_date < $1",
    "DELETE FROM task_instance_history WHERE start_date < $1",
    "DELETE FROM xcom WHERE timestamp < $1",
    "DELETE FROM task_state_store WHERE expires_at < $1",
    "DELETE FROM deadline WHERE deadline_time < $1",
]


def in_process(cutoff: datetime) -> Contender:
    async def run(url: str) -> tuple[float, Any]:
        engine = await _warm_engine(url)
        try:
            async def work() -> int:
                pruners = await order_for_drain(
                    engine, [registry.get(n) for n in airflow_pruners.NAMES])
                out = await drain_many(engine, [sweep(p, before=cutoff, limit=BATCH,
                                                      settings=SETTINGS) for p in pruners],
                                       settings=SETTINGS)
                if any(r.stopped != "done" for r in out):
                    raise AssertionError(f"a drain stopped: {[(r.entity, r.error) for r in out]}")
                return sum(r.count for r in out)
            return await timed(work)
        finally:
            await engine.dispose()
    return run


def _pruner_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PRUNER_MODULES": "bench.airflow_pruners",
            "PRUNER_MAX_LIMIT": "10000000", "PRUNER_STATEMENT_TIMEOUT_MS": "3600000",
            "PRUNER_OPERATOR": "bench"}


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True)


def cli(cutoff: datetime, mode: dict[str, str]) -> Contender:
    """`pruner drain` of every pruner in one process; six processes if the CLI refuses that
    (`mode["cli"]` says which ran)."""
    pruner = str(Path(sys.executable).parent / "pruner")
    tail = ["--before", cutoff.isoformat(), "--batch-size", str(BATCH), "--yes"]

    def work(url: str) -> None:
        env = _pruner_env()
        one = _run([pruner, "drain", *airflow_pruners.NAMES, *tail, "--database-url", url], env)
        if one.returncode == 0:
            mode["cli"] = "one process"
            return
        if one.returncode != 2 or mode.get("cli") == "one process":
            raise RuntimeError(f"pruner drain exited {one.returncode}: {one.stderr[-300:]}")
        mode["cli"] = f"{len(airflow_pruners.NAMES)} processes (this CLI drains one entity a call)"
        for name in airflow_pruners.NAMES:  # usage error: nothing ran; one entity a call
            r = _run([pruner, "drain", name, *tail, "--database-url", url], env)
            if r.returncode != 0:
                raise RuntimeError(f"pruner drain {name} exited {r.returncode}: {r.stderr[-300:]}")

    async def run(url: str) -> tuple[float, Any]:
        return await timed(lambda: asyncio.to_thread(work, url))
    return run


def airflow(cutoff: datetime) -> Contender:
    def work(url: str) -> None:
        r = _run([str(AIRFLOW), "db", "clean", "--tables", "dag_run", "--clean-before-timestamp",
                  cutoff.isoformat(), "--skip-archive", "--yes"], airflow_env(url))
        if r.returncode != 0:
            raise RuntimeError(f"airflow db clean exited {r.returncode}: {r.stderr[-300:]}")

    async def run(url: str) -> tuple[float, Any]:
        return await timed(lambda: asyncio.to_thread(work, url))
    return run


def floor(cutoff: datetime) -> Contender:
    async def run(url: str) -> tuple[float, Any]:
        conn = await asyncpg.connect(dsn(url))
        try:
            async def work() -> None:
                async with conn.transaction():
                    for sql in FLOOR:
                        await conn.execute(sql, cutoff)
            return await timed(work)
        finally:
            await conn.close()
    return run


async def airflow_suite(ctx: Context, runs: int, repeats: int = 2) -> list[Row]:
    if not installed():
        return [Row("Airflow", "suite skipped", None, None,
                    note=f"Airflow is not installed: python -m bench.airflow_suite --install "
                         f"(apache-airflow {VERSION} into {VENV.relative_to(ROOT)})")]
    name = f"airflow_{runs}"
    ctx.log(f"seeding {name}: airflow db migrate, {runs:,} dag runs")
    tpl, cutoff = await airflow_template(ctx.bc, name, runs)
    ctx.templates[name] = tpl
    mode: dict[str, str] = {}
    cpu: dict[str, list[float]] = {}
    times = await compare(ctx, name, "airflow", {
        "in-process": in_process(cutoff), "cli": cli(cutoff, mode),
        "airflow db clean": airflow(cutoff), "floor": floor(cutoff)}, repeats, cpu)
    inproc, rows = best(times["in-process"]), tpl.rows
    case = (f"{rows['dag_run']:,} runs, {rows['task_instance']:,} task instances, "
            f"{rows['xcom']:,} xcom; batches of {BATCH:,}")
    return [
        Row("Airflow", f"{case}: pruner drain CLI vs in-process drain_many", best(times["cli"]),
            inproc, 1.05, ours_label="CLI", floor_label="in-process",
            cpu_ratio=cpu_ratio(cpu, "cli", "in-process"),
            note=f"CLI: {mode.get('cli', '?')}, start-up included; best of {repeats}"),
        Row("Airflow", f"{case}: airflow db clean vs the pruner drain CLI",
            best(times["airflow db clean"]), best(times["cli"]), None,
            ours_label="airflow db clean", floor_label="CLI",
            cpu_ratio=cpu_ratio(cpu, "airflow db clean", "cli"),
            note="ratio > 1: the pruner CLI is ahead (target: ahead of airflow db clean); "
                 "both whole processes"),
        Row("Airflow", f"{case}: in-process drain vs the SQL floor", inproc, best(times["floor"]),
            None, ours_label="in-process", floor_label="floor",
            cpu_ratio=cpu_ratio(cpu, "in-process", "floor"),
            note="floor: finished runs older than the cutoff (cascades do the rest), then the "
                 "other five tables by age, one transaction"),
    ]


def install() -> None:
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                    f"apache-airflow[postgres]=={VERSION}"], check=True)


async def _alone(runs: int, repeats: int) -> None:
    from datetime import UTC

    from bench.cluster import BenchCluster
    from bench.report import table

    bc = BenchCluster.create()
    try:
        ctx = Context(bc, datetime.now(UTC), {}, repeats,
                      lambda m: print(f"[{time.strftime('%H:%M:%S')}] {m}", file=sys.stderr))
        print("\n".join(table(await airflow_suite(ctx, runs, repeats))))
    finally:
        bc.destroy()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(prog="python -m bench.airflow_suite", description=__doc__)
    ap.add_argument("--install", action="store_true", help=f"install Airflow {VERSION}")
    ap.add_argument("--runs", type=int, default=5_000)
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()
    if a.install:
        install()
    else:
        asyncio.run(_alone(a.runs, a.repeats))
