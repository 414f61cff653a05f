"""The comparisons. Each suite returns report rows; every copy is checked to end identical."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bench.cluster import BenchCluster
from bench.contenders import Contender, floor, ours, peer
from bench.cpu import Cpu
from bench.data import Template
from bench.floors import SESSION_FLOORS, logs_floor, sessions_floor
from bench.measure import Row, best, cpu_ratio, fingerprint
from core import registry

SESSIONS = registry.get("sessions")
LOGS = registry.get("audit_logs")


@dataclass
class Context:
    bc: BenchCluster
    before: datetime
    templates: dict[str, Template]
    repeats: int
    log: Callable[[str], None]
    best_floor: str = "any_array"  # the sessions floor variant that won the prune comparison
    notes: list[str] = field(default_factory=list)


async def compare(ctx: Context, template: str, entity: str, contenders: dict[str, Contender],
                  repeats: int, cpu: dict[str, list[float]] | None = None,
                  ) -> dict[str, list[float]]:
    """Run every contender `repeats` times, each on a fresh copy of `template`, rotating the order
    between rounds; fail loudly if any copy ends different from the others. With `cpu`, each
    run's CPU seconds (server + client, connecting included) are collected there too."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    expected: tuple[Any, ...] | None = None
    names = list(contenders)
    for rnd in range(repeats):
        order = names[rnd % len(names):] + names[:rnd % len(names)]
        for name in order:
            with ctx.bc.copy_of(template) as url:
                c0 = Cpu.now(ctx.bc.cluster.datadir)
                seconds, _ = await contenders[name](url)
                spent = Cpu.now(ctx.bc.cluster.datadir) - c0
                got = await fingerprint(url, entity)
            if cpu is not None:
                cpu.setdefault(name, []).append(spent.total)
            if expected is None:
                expected = got
            elif got != expected:
                raise AssertionError(f"{name} on {template} left {got}, others left {expected}")
            times[name].append(seconds)
            ctx.log(f"  {template} {name}: {seconds:.3f}s (cpu: server {spent.server:.2f}s, "
                    f"client {spent.client:.2f}s)")
    return times


def _fmt(times: dict[str, list[float]], names: list[str]) -> str:
    return ", ".join(f"{n} {best(times[n]):.2f}s" for n in names)


async def prune_throughput(ctx: Context, limits: list[int]) -> list[Row]:
    rows: list[Row] = []
    tpl = ctx.templates["sessions_big"]
    for limit in limits:
        floors = {f"floor:{v}": floor(sessions_floor(v), ctx.before, limit) for v in SESSION_FLOORS}
        contenders = {"pruner": ours(SESSIONS, ctx.before, limit), **floors,
                      "peer": peer(ctx.before, limit)}
        big = limit > 100_000
        cpu: dict[str, list[float]] = {}
        times = await compare(ctx, tpl.name, "sessions", contenders, 1 if big else ctx.repeats,
                              cpu)
        win = min(floors, key=lambda n: best(times[n]))
        if big:  # a second round only for the two that the ratio compares (time budget)
            more = await compare(ctx, tpl.name, "sessions",
                                 {"pruner": contenders["pruner"], win: contenders[win]}, 1, cpu)
            for name, ts in more.items():
                times[name] += ts
        reps = 2 if big else ctx.repeats
        ctx.best_floor = win.split(":", 1)[1]
        case = f"sessions, one call, limit {limit:,} ({tpl.rows['sessions']:,} sessions)"
        rows.append(Row("Prune throughput", case, best(times["pruner"]), best(times[win]), 1.10,
                        cpu_ratio=cpu_ratio(cpu, "pruner", win),
                        note=f"floor = {win}; all floors: {_fmt(times, list(floors))}; "
                             f"best of {reps} (other floors and peer: {1 if big else reps})"))
        rows.append(Row("Peer (prior design)", case, best(times["peer"]), best(times[win]), None,
                        ours_label="peer", cpu_ratio=cpu_ratio(cpu, "peer", win),
                        note="ids to Python, then IN lists of <=16,000 bind parameters per "
                             "statement"))
    return rows


async def growth_suite(ctx: Context, series: list[tuple[str, str]], limit: int) -> list[Row]:
    """A `limit`-row prune as the table grows: cost per pruned row should not grow with it."""
    rows: list[Row] = []
    for entity, names in (("sessions", [n for e, n in series if e == "sessions"]),
                          ("audit_logs", [n for e, n in series if e == "audit_logs"])):
        pruner = SESSIONS if entity == "sessions" else LOGS
        fl = sessions_floor(ctx.best_floor) if entity == "sessions" else logs_floor
        per_row: list[tuple[int, float]] = []
        for name in names:
            tpl = ctx.templates[name]
            times = await compare(ctx, name, entity, {
                "pruner": ours(pruner, ctx.before, limit),
                "floor": floor(fl, ctx.before, limit)}, ctx.repeats)
            size = tpl.rows[entity]
            t = best(times["pruner"])
            per_row.append((size, t / limit))
            rows.append(Row("Growth", f"{entity}: {limit:,}-row prune, table of {size:,} rows",
                            t, best(times["floor"]), None,
                            note=f"{t / limit * 1e6:.1f} us per pruned row"))
        if len(per_row) > 1:
            costs = [c for _, c in per_row]
            rows.append(Row("Growth", f"{entity}: per-row cost, largest table / smallest "
                                      f"({per_row[-1][0]:,} vs {per_row[0][0]:,} rows)",
                            costs[-1] * limit, costs[0] * limit, 1.5,
                            ours_label="largest", floor_label="smallest",
                            note="flat means ratio near 1"))
    return rows
