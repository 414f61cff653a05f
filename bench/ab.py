"""A longer A/B of one prune size: `python -m bench.ab --sessions 1200000 --limit 1000000`.

The full run can afford two rounds at a million rows; on a shared box that leaves the ratio within
noise of the target. This alternates Pruner and one floor for more rounds on one template.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from datetime import UTC, datetime

from bench.cluster import BenchCluster
from bench.contenders import floor, ours
from bench.data import sessions_template
from bench.floors import SESSION_FLOORS, sessions_floor
from bench.suites import SESSIONS, Context, compare


async def main(sessions: int, limit: int, rounds: int, variant: str) -> None:
    bc = BenchCluster.create()
    try:
        tpl = await sessions_template(bc, "ab", sessions)
        ctx = Context(bc, datetime.now(UTC), {"ab": tpl}, rounds, print)
        times = await compare(ctx, "ab", "sessions", {
            "pruner": ours(SESSIONS, ctx.before, limit),
            variant: floor(sessions_floor(variant), ctx.before, limit)}, rounds)
        ours_t, floor_t = times["pruner"], times[variant]
        print(f"{tpl.rows['sessions']:,} sessions, limit {limit:,}, {rounds} rounds each")
        for name, ts in (("pruner", ours_t), (variant, floor_t)):
            print(f"{name}: best {min(ts):.2f}s median {statistics.median(ts):.2f}s "
                  f"all {', '.join(f'{t:.1f}' for t in ts)}")
        print(f"ratio of bests {min(ours_t) / min(floor_t):.3f}, "
              f"of medians {statistics.median(ours_t) / statistics.median(floor_t):.3f}")
    finally:
        bc.destroy()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__)
    ap.add_argument("--sessions", type=int, default=1_200_000)
    ap.add_argument("--limit", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--floor", choices=SESSION_FLOORS, default="any_array")
    a = ap.parse_args()
    asyncio.run(main(a.sessions, a.limit, a.rounds, a.floor))
