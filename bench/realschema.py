"""The prune benchmark on the real Backend.AI manager 26.9 schema, with and without the indexes
preflight recommends: `python -m bench.realschema [--quick]`.

One throwaway cluster; the schema as the platform's own `schema oneshot` creates it
(`core.demo.backendai.load_schema`), bulk-seeded (`bench.realschema_seed`) into a template. A
second template is a copy of it with every index `core.preflight` recommends for the pruners
measured (the unindexed foreign-key lookups and the partial candidate index). In each template,
for each case, a journaled prune (`core.operations.prune`, what the CLI runs) and the
hand-written floors (`bench.realschema_floor`) run on fresh `CREATE DATABASE … TEMPLATE` copies,
best of N rounds, the order rotated each round; after every run the copy's fingerprint (row
counts of every table of the tree, hashes of the surviving keys) must equal every other
contender's, or the bench stops. The block of results is printed and written into
docs/benchmarks-realschema.md between its markers (`--out` elsewhere, `--no-write` nowhere).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.cluster import BenchCluster
from bench.realschema_floor import LOG_FLOORS, SESSION_FLOORS, floor
from bench.realschema_seed import Scale, seed
from bench.report import cpu_model
from core import journal, registry
from core.db import create_engine
from core.demo.backendai import RELEASES, load_schema
from core.operations import journal_ready, prune
from core.preflight import Preflight, preflight
from core.repository.pruner import sweep
from core.repository.pruner.planner import current_plan
from core.settings import PruneSettings

RELEASE = "26.9"
ENTITIES = ("sessions", "audit_logs")
DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks-realschema.md"

# Big enough for any call here; the defaults guard production, not benches.
SETTINGS = PruneSettings(max_limit=10_000_000, lock_timeout_ms=60_000,
                         statement_timeout_ms=3_600_000)

# What "the same rows went" means: the row count of every table the tree reaches, and hashes of
# the surviving keys of the tables whose rows are identified by them.
_FINGERPRINT = {
    "sessions": """
SELECT (SELECT count(*) FROM sessions) AS sessions,
       (SELECT sum(hashtext(id::text)) FROM sessions) AS sessions_hash,
       (SELECT count(*) FROM kernels) AS kernels,
       (SELECT sum(hashtext(id::text)) FROM kernels) AS kernels_hash,
       (SELECT count(*) FROM resource_allocations) AS resource_allocations,
       (SELECT count(*) FROM vfolder_attachment) AS vfolder_attachment,
       (SELECT count(*) FROM session_dependencies) AS session_dependencies,
       (SELECT count(*) FROM session_idle_checks) AS session_idle_checks,
       (SELECT count(*) FROM routings) AS routings,
       (SELECT count(*) FROM virtual_entities) AS virtual_entities,
       (SELECT sum(hashtext(id::text)) FROM virtual_entities) AS virtual_entities_hash,
       (SELECT count(*) FROM entity_memberships) AS entity_memberships,
       (SELECT sum(hashtext(id::text)) FROM entity_memberships) AS entity_memberships_hash,
       (SELECT count(*) FROM entity_membership_caps) AS entity_membership_caps,
       (SELECT count(*) FROM entity_membership_fields) AS entity_membership_fields,
       (SELECT count(*) FROM scope_bindings) AS scope_bindings,
       (SELECT sum(hashtext(virtual_entity_id::text || scope_entity_id::text))
        FROM scope_bindings) AS scope_bindings_hash,
       (SELECT count(*) FROM roles) AS roles,
       (SELECT count(*) FROM permissions) AS permissions,
       (SELECT count(*) FROM permission_fields) AS permission_fields,
       (SELECT count(*) FROM user_roles) AS user_roles,
       (SELECT count(*) FROM entity_shares) AS entity_shares,
       (SELECT count(*) FROM entity_labels) AS entity_labels""",
    "audit_logs": """
SELECT (SELECT count(*) FROM audit_logs) AS audit_logs,
       (SELECT sum(hashtext(id::text)) FROM audit_logs) AS audit_logs_hash,
       (SELECT count(*) FROM audit_log_scopes) AS audit_log_scopes""",
}

Say = Callable[[str], None]


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@dataclass(frozen=True)
class Sizes:
    sessions: int
    limits: tuple[int, ...]
    upstream_limits: tuple[int, ...]  # without the indexes: a seq scan per deleted kernel
    rounds: int


QUICK = Sizes(sessions=50_000, limits=(1_000, 10_000), upstream_limits=(1_000, 10_000),
              rounds=5)
# At 500k sessions the upstream schema scans all of vfolder_attachment (125k rows) once per
# deleted kernel: ~3 min per contender for 10k sessions, ~30 min for 100k. 100k is measured on
# the recommended indexes only.
FULL = Sizes(sessions=500_000, limits=(10_000, 100_000), upstream_limits=(10_000,), rounds=2)


@dataclass
class Run:
    seconds: float
    fingerprint: tuple[Any, ...]
    in_db: float | None = None  # the Pruner's time inside its statements
    load: float = 0.0  # 1-minute load average after the run


@dataclass
class Case:
    index_set: str  # "upstream" | "recommended"
    entity: str
    limit: int
    runs: dict[str, list[Run]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)  # the pruner's per-table deletes
    plan_s: float | None = None  # resolve + plan read on a fresh engine (not timed)

    def best(self, name: str) -> float:
        return min(r.seconds for r in self.runs[name])

    @property
    def floor_name(self) -> str:
        return min((n for n in self.runs if n != "pruner"), key=self.best)


# ------------------------------------------------------------------------------ contenders
async def fingerprint(url: str, entity: str) -> tuple[Any, ...]:
    conn = await asyncpg.connect(dsn(url))
    try:
        row = await conn.fetchrow(_FINGERPRINT[entity])
        assert row is not None
        return tuple(row)
    finally:
        await conn.close()


def _statement_clock(engine: AsyncEngine) -> list[float]:
    """A one-element list that adds up the time from sending each statement to having its
    result (the server's work, the wire, asyncpg's decoding); the rest of a call is Python
    (building and compiling the statements, the result, the journal logic) and COMMIT."""
    total = [0.0]
    sent: dict[int, float] = {}

    @sa.event.listens_for(engine.sync_engine, "before_cursor_execute")
    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        sent[id(context)] = time.perf_counter()

    @sa.event.listens_for(engine.sync_engine, "after_cursor_execute")
    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
              executemany: bool) -> None:
        total[0] += time.perf_counter() - sent.pop(id(context), time.perf_counter())

    return total


async def run_pruner(url: str, entity: str, before: datetime, limit: int,
                     case: Case) -> tuple[float, float]:
    """A journaled prune on a warmed engine: the model resolved, the plan read and cached, the
    journal checked, a connection open; the timer covers `core.operations.prune`."""
    engine = create_engine(url, pool_size=2)
    try:
        started = time.perf_counter()
        pruner = await registry.resolve(engine, entity)
        async with engine.connect() as conn:
            await current_plan(conn, pruner)
        case.plan_s = time.perf_counter() - started
        await journal_ready(engine)
        req = sweep(pruner, before=before, limit=limit, settings=SETTINGS)
        in_db = _statement_clock(engine)
        started = time.perf_counter()
        result = await prune(engine, req, settings=SETTINGS, operator="bench",
                             reason="bench.realschema")
        took = time.perf_counter() - started
        case.counts = {k: v for k, v in sorted(result.deleted.items()) if v}
        return took, in_db[0]
    finally:
        await engine.dispose()


async def run_floor(url: str, sql: str, before: datetime, limit: int) -> float:
    conn = await asyncpg.connect(dsn(url), command_timeout=None)
    try:
        await conn.execute("SELECT 1")
        started = time.perf_counter()
        await floor(sql)(conn, before, limit)
        return time.perf_counter() - started
    finally:
        await conn.close()


async def measure(bc: BenchCluster, template: str, case: Case, before: datetime, rounds: int,
                  say: Say) -> None:
    floors = SESSION_FLOORS if case.entity == "sessions" else LOG_FLOORS
    names = ["pruner", *(f"floor:{n}" for n in floors)]
    expected: tuple[Any, ...] | None = None
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            in_db: float | None = None
            with bc.copy_of(template) as url:
                if name == "pruner":
                    took, in_db = await run_pruner(url, case.entity, before, case.limit, case)
                else:
                    took = await run_floor(url, floors[name.split(":", 1)[1]], before,
                                           case.limit)
                fp = await fingerprint(url, case.entity)
            if expected is None:
                expected = fp
            elif fp != expected:
                raise SystemExit(f"{case.index_set} {case.entity} limit {case.limit:,}: {name} "
                                 f"left different rows\n  expected {expected}\n  got      {fp}")
            load = os.getloadavg()[0]
            case.runs.setdefault(name, []).append(Run(took, fp, in_db, load))
            say(f"  {case.index_set} {case.entity} limit {case.limit:,} round {r + 1}: "
                f"{name} {took:.3f}s" + ("" if in_db is None else f" (in statements "
                                         f"{in_db:.3f}s)") + f", load {load:.1f}")


# ------------------------------------------------------------------------------ templates
async def seeded_template(bc: BenchCluster, name: str, sessions: int, say: Say,
                          ) -> tuple[dict[str, int], float]:
    started = time.perf_counter()
    url = await asyncio.to_thread(load_schema, bc.cluster, name, RELEASE, progress=None)
    engine = create_engine(url)
    try:
        counts = await seed(engine, Scale.of(sessions))
        await journal.ensure_journal(engine)  # so that no timed run creates it
    finally:
        await engine.dispose()
    took = time.perf_counter() - started
    say(f"seeded {name} in {took:.0f}s: {sum(counts.values()):,} rows")
    return counts, took


async def preflights(url: str) -> list[Preflight]:
    engine = create_engine(url)
    try:
        return [await preflight(engine, await registry.resolve(engine, e)) for e in ENTITIES]
    finally:
        await engine.dispose()


def recommended(pfs: list[Preflight]) -> list[str]:
    """Every statement the preflights offer, once each, in the order given."""
    out: list[str] = []
    for pf in pfs:
        for u in pf.unindexed:
            out.append(u.fix)
        if pf.candidate_index is not None:
            out.append(pf.candidate_index.statement)
    return list(dict.fromkeys(out))


async def apply(url: str, statements: list[str]) -> float:
    """Run the offered statements as an operator would (CONCURRENTLY: outside a transaction)."""
    engine = create_engine(url)
    started = time.perf_counter()
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            for stmt in statements:
                await conn.execute(sa.text(stmt))  # text from the catalog and declarations
            await conn.execute(sa.text("ANALYZE"))
    finally:
        await engine.dispose()
    return time.perf_counter() - started


# ------------------------------------------------------------------------------ report
def _s(v: float) -> str:
    return f"{v:.3f}" if v < 10 else f"{v:.1f}"


def report(mode: str, minutes: float, server: str, loads: tuple[str, str], scale: Scale,
           counts: dict[str, int], seeded_s: float, size: int, before: datetime,
           pf_lines: list[str], pf_after: list[str], applied: list[str], applied_s: float,
           cases: list[Case], rounds: int) -> str:
    pkgs = ", ".join(f"{p} {version(p)}" for p in ("sqlalchemy", "asyncpg"))
    head = [
        f"## Results ({mode} run, {minutes:.1f} min)", "",
        f"- CPU: {cpu_model()}, {os.cpu_count()} cores; {platform.system()} {platform.release()}",
        f"- PostgreSQL {server} (throwaway cluster: fsync off, shared_buffers 512MB, work_mem "
        "32MB, autovacuum off, jit off, no parallel workers)",
        f"- Python {platform.python_version()}; {pkgs}",
        f"- schema: backend-ai-manager {RELEASES[RELEASE]} (`schema oneshot`, cached dump)",
        f"- load average at start / end: {loads[0]} / {loads[1]}",
        f"- cutoff: {before.isoformat(timespec='seconds')} (now − 30 days); best of {rounds} "
        "rounds, order rotated", "",
        "### Data", "",
        f"{scale.n:,} sessions over 400 days; {_s(seeded_s)} s to load and seed; "
        f"{size / 2**20:,.0f} MiB.", "",
        ", ".join(f"{k} {v:,}" for k, v in counts.items()), "",
        "### Preflight on the schema as upstream creates it", "",
        "```", *pf_lines, "```", "",
        f"Applied for the `recommended` set ({_s(applied_s)} s on the template):", "",
        "```", *applied, "```", "",
        "Preflight afterwards:", "",
        "```", *pf_after, "```", "",
        "### Figures", "",
        "Pruner = `core.operations.prune` (journaled, what `pruner prune` runs) on a warmed "
        "engine; floor = the faster of the hand-written statements on the same index set. "
        "Ratios are Pruner / floor.", "",
        "| index set | entity | limit | Pruner (s) | in its statements (s) | floor (s) | "
        "ratio | statements / floor | floors, best (s) | Pruner, every run (s) | load |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    rows = []
    for c in cases:
        fl = c.floor_name
        floors = ", ".join(f"{n.split(':', 1)[1]} {_s(c.best(n))}" for n in c.runs
                           if n != "pruner")
        mine = min(c.runs["pruner"], key=lambda r: r.seconds)
        in_db = mine.in_db or 0.0
        runs = ", ".join(_s(r.seconds) for r in c.runs["pruner"])
        run_loads = [r.load for rs in c.runs.values() for r in rs]
        rows.append(f"| {c.index_set} | {c.entity} | {c.limit:,} | {_s(mine.seconds)} | "
                    f"{_s(in_db)} | {_s(c.best(fl))} | {mine.seconds / c.best(fl):.2f}× | "
                    f"{in_db / c.best(fl):.2f}× | {floors} | {runs} | "
                    f"{min(run_loads):.1f}–{max(run_loads):.1f} |")
    plan_s = max((c.plan_s or 0.0) for c in cases) if cases else 0.0
    tail = ["", "*in its statements*: the Pruner's time from sending each statement to having "
            "its result; the rest is Python (building and compiling the statements, the "
            "journal logic) and COMMIT. *load*: the 1-minute load average after each run of "
            "the case (2 cores). Not timed: resolving the model and reading the plan on a "
            f"fresh engine (at most {plan_s:.2f} s here), which a CLI process also pays.",
            "", "Rows the Pruner reported per table (identical to the floor's deltas: the "
            "fingerprints matched):", ""]
    seen: set[tuple[str, int]] = set()
    for c in cases:
        if (c.entity, c.limit) in seen:
            continue
        seen.add((c.entity, c.limit))
        tail.append(f"- {c.entity}, limit {c.limit:,}: "
                    + ", ".join(f"{k} {v:,}" for k, v in c.counts.items()))
    cmd = "python -m bench.realschema" + (" --quick" if mode == "quick" else "")
    return "\n".join([*head, *rows, *tail, "", f"Reproduce: `.venv/bin/{cmd}`", ""])


def write_block(path: Path, mode: str, block: str) -> None:
    start, end = f"<!-- realschema:{mode}:start -->", f"<!-- realschema:{mode}:end -->"
    text = path.read_text() if path.exists() else ""
    new = f"{start}\n{block}\n{end}"
    if start in text and end in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: new, text,
                      flags=re.S)
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + new + "\n"
    path.write_text(text)


# ------------------------------------------------------------------------------ main
async def main(quick: bool, rounds: int | None, out: Path | None, only: tuple[str, ...],
               say: Say = print) -> str:
    sizes = QUICK if quick else FULL
    rounds = rounds or sizes.rounds
    started = time.perf_counter()
    load_start = f"{os.getloadavg()[0]:.2f}"
    bc = BenchCluster.create()
    try:
        server = bc.sql("SHOW server_version")
        counts, seeded_s = await seeded_template(bc, "rs_upstream", sizes.sessions, say)
        before = datetime.now(UTC) - timedelta(days=30)
        pfs = await preflights(bc.url("rs_upstream"))
        pf_lines = [line for pf in pfs for line in pf.lines()]
        say("\n".join(pf_lines))
        statements = recommended(pfs)
        bc.sql('CREATE DATABASE "rs_recommended" TEMPLATE "rs_upstream" STRATEGY FILE_COPY')
        applied_s = await apply(bc.url("rs_recommended"), statements)
        pf_after = [line for pf in await preflights(bc.url("rs_recommended"))
                    for line in pf.lines()]
        say("\n".join(pf_after))
        cases: list[Case] = []
        for index_set in ("upstream", "recommended"):
            if index_set not in only:
                continue
            limits = sizes.upstream_limits if index_set == "upstream" else sizes.limits
            for entity in ENTITIES:
                for limit in limits:
                    case = Case(index_set, entity, limit)
                    await measure(bc, f"rs_{index_set}", case, before, rounds, say)
                    cases.append(case)
        size = bc.size("rs_upstream")
        load_end = f"{os.getloadavg()[0]:.2f}"
    finally:
        bc.destroy()
    block = report("quick" if quick else "full", (time.perf_counter() - started) / 60, server,
                   (load_start, load_end), Scale.of(sizes.sessions), counts, seeded_s, size,
                   before, pf_lines, pf_after, statements, applied_s, cases, rounds)
    if out is not None:
        write_block(out, "quick" if quick else "full", block)
    return block


def cli(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.realschema", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="50k sessions, limits 1k and 10k")
    ap.add_argument("--rounds", type=int, help="rounds per case (default 5 quick, 2 full)")
    ap.add_argument("--out", type=Path, default=DOC, help=f"file to write into ({DOC.name})")
    ap.add_argument("--no-write", action="store_true", help="only print the results")
    ap.add_argument("--only", choices=("upstream", "recommended"), action="append",
                    help="measure only this index set (repeatable; default both)")
    a = ap.parse_args(argv)
    block = asyncio.run(main(a.quick, a.rounds, None if a.no_write else a.out,
                             tuple(a.only or ("upstream", "recommended"))))
    print(block)


if __name__ == "__main__":
    cli()
