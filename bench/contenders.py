"""Each contender opens (and warms) its connection first, so only the work itself is timed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.floors import Floor, dsn
from bench.measure import timed
from bench.peer import peer_prune
from core import PruneSettings, execute_pruner
from core.db import create_engine
from core.registry import get
from core.repository.pruner import Pruner
from core.repository.pruner.planner import current_plan

# Big enough for a million-row call and slow disks; the defaults guard production, not benches.
SETTINGS = PruneSettings(max_limit=10_000_000, lock_timeout_ms=60_000,
                         statement_timeout_ms=3_600_000)

Contender = Callable[[str], Awaitable[tuple[float, Any]]]


async def _warm_engine(url: str, *pruners: Pruner) -> AsyncEngine:
    """A connected engine; with `pruners`, their plans are read from the catalog and cached (the
    library's steady state: a long-lived engine plans once; the CLI suite times the cold path)."""
    engine = create_engine(url, pool_size=2)
    async with engine.begin() as conn:
        await conn.execute(sa.text("SELECT 1"))
        for pruner in pruners:
            await current_plan(conn, pruner)
    return engine


def with_engine(work: Callable[[AsyncEngine], Awaitable[Any]], *pruners: Pruner) -> Contender:
    async def run(url: str) -> tuple[float, Any]:
        engine = await _warm_engine(url, *pruners)
        try:
            return await timed(lambda: work(engine))
        finally:
            await engine.dispose()
    return run


def ours(pruner: Pruner, before: datetime, limit: int) -> Contender:
    return with_engine(lambda e: execute_pruner(e, pruner, before=before, limit=limit,
                                                settings=SETTINGS), pruner)


def peer(before: datetime, limit: int) -> Contender:
    return with_engine(lambda e: peer_prune(e, before, limit), get("sessions"))


def floor(fn: Floor, before: datetime, limit: int) -> Contender:
    async def run(url: str) -> tuple[float, Any]:
        conn = await asyncpg.connect(dsn(url))
        try:
            await conn.execute("SELECT 1")
            return await timed(lambda: fn(conn, before, limit))
        finally:
            await conn.close()
    return run
