"""One memory measurement in a process of its own: `python -m bench.mem_child URL OP ENTITY N`.

Prints JSON with the peak RSS after imports and a warm connection (`baseline_kb`) and after the
operation (`peak_kb`), and the most rows any one statement of the operation returned
(`max_rows`). OP is `preview` (limit N) or `prune` (limit N).
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import event

from core import PruneSettings, execute_pruner, registry, sweep
from core.db import create_engine


def _peak_kb() -> int:
    """This process's high-water RSS. ru_maxrss would do, except that Linux carries the parent's
    peak across fork+exec; VmHWM belongs to the new address space alone."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


async def main(url: str, op: str, entity: str, n: int) -> dict[str, int]:
    from core.preview import preview  # imported before the baseline: code is not what we measure

    pruner = registry.get(entity)
    engine = create_engine(url, pool_size=1)
    settings = PruneSettings(max_limit=10_000_000, statement_timeout_ms=3_600_000)
    async with engine.connect() as conn:
        await conn.execute(sa.text("SELECT 1"))
    returned = [0]

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def count(conn: object, cursor: object, *_: object) -> None:
        returned[0] = max(returned[0], getattr(cursor, "rowcount", 0) or 0)

    baseline = _peak_kb()
    before = datetime.now(UTC)
    if op == "preview":
        p = await preview(engine, sweep(pruner, before=before, limit=n, settings=settings),
                          sample_size=100, settings=settings)
        got = p.candidates
    else:
        got = (await execute_pruner(engine, pruner, before=before, limit=n,
                                    settings=settings)).count
    await engine.dispose()
    return {"baseline_kb": baseline, "peak_kb": _peak_kb(), "rows": got,
            "max_rows": returned[0]}


if __name__ == "__main__":
    url, op, entity, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    print(json.dumps(asyncio.run(main(url, op, entity, n))))
