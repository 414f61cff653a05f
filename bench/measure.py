"""Timing, fingerprints and the row type every suite reports."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from bench.floors import dsn

# What "the same data afterwards" means: the row count of every table in the public schema (so a
# contender that deletes anything the others do not is caught, whatever the plan reaches) and a
# hash of the surviving parent ids (so the very same rows went, not just as many).
_COUNTS = """
SELECT string_agg(table_name || '=' || (xpath('/row/n/text()', query_to_xml(
         format('SELECT count(*) AS n FROM public.%I', table_name), false, true, '')))[1]::text,
       ',' ORDER BY table_name)
FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
  AND NOT table_name = ANY ($1::text[])
"""
# Tables a contender writes for its own bookkeeping: Airflow's CLI logs each command in `log`.
_OWN = {"airflow": ["log"]}
_SURVIVORS = {
    "sessions": "SELECT sum(hashtext(id::text)) FROM sessions",
    "audit_logs": "SELECT sum(id) FROM audit_logs",
}


@dataclass
class Row:
    """One line of the report: our time against the floor's, and whether the target holds."""

    suite: str
    case: str
    ours_s: float | None
    floor_s: float | None
    target: float | None = None  # highest acceptable ours/floor
    note: str = ""
    ours_label: str = "Pruner"
    floor_label: str = "floor"
    cpu_ratio: float | None = None  # the same ratio in CPU seconds (server + client), best of

    @property
    def ratio(self) -> float | None:
        if self.ours_s is None or not self.floor_s:
            return None
        return self.ours_s / self.floor_s

    @property
    def holds(self) -> bool | None:
        r = self.ratio
        return None if r is None or self.target is None else r <= self.target


async def fingerprint(url: str, entity: str) -> tuple[Any, ...]:
    """Row counts of every public table (but a contender's own log), plus a hash of `entity`'s
    surviving ids when known."""
    conn = await asyncpg.connect(dsn(url))
    try:
        counts = await conn.fetchval(_COUNTS, _OWN.get(entity, []))
        sql = _SURVIVORS.get(entity)
        return (counts, await conn.fetchval(sql)) if sql else (counts,)
    finally:
        await conn.close()


async def timed(fn: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    out = await fn()
    return time.perf_counter() - started, out


def cpu_ratio(cpu: dict[str, list[float]], ours: str, floor: str) -> float | None:
    """Best CPU seconds of `ours` over best of `floor` (None when either was not measured)."""
    if not cpu.get(ours) or not cpu.get(floor) or not min(cpu[floor]):
        return None
    return min(cpu[ours]) / min(cpu[floor])


def best(times: list[float]) -> float:
    """The fastest of repeated runs: noise on a shared box only ever adds time."""
    return min(times)
