"""Beside a live platform (issue 11): a platform simulator writes while 8 pruner processes drain.

The simulator (async workers on their own connections, application_name `platform`) flips
session and kernel statuses, terminates live sessions with a back-dated `terminated_at` (they
qualify at once: a stream arriving behind the drains' positions), inserts kernels and dependency
edges (dense, crossing dead and live sessions), grants and revokes RBAC rows, spawns sessions,
and takes row locks on candidates in both orders (kernel then session, session then kernel).
Meanwhile 8 `pruner drain` processes (7 of `sessions`, one `--all`) run with long batches.

A sampler reads `pg_locks.waitstart` of every waiting backend every few ms. An AFTER DELETE
trigger on the four session tables records every deleted row and who deleted it. Checked:

* 0 live rows lost: every deleted session and kernel was dead when deleted, every deleted edge
  and RBAC row named a deleted session or kernel, nobody but the drains deleted them;
* 0 platform transactions aborted by a prune (deadlock, lock or statement timeout,
  serialization failure); a platform insert whose parent a prune had deleted is its own FK
  error, counted apart;
* prune lock waits: the longest sampled wait of a pruner backend, bounded by lock_timeout;
* every drain ends (exit 0, `done`), each pruned id is reported exactly once across the 8
  processes, and the journal equals the deletes.

Size: 3,000 dead + 600 live sessions, batches of 150 by default; 60,000 + 6,000, batches of
2,000 under PRUNER_SOAK=full. The figures are printed.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.db import DB_ERRORS, sqlstate
from core.demo.cluster import LocalCluster
from core.demo.seed import create_schema
from tests.reliability.helpers import ROOT, engine_for, sample_waits, seed_sessions, size

pytestmark = pytest.mark.soak

DEAD, LIVE = size(3_000, 60_000), size(600, 6_000)
BATCH = size(150, 2_000)
PRUNERS = 8
PLATFORM_WORKERS = 4
ABORTS = {"40P01": "deadlock", "55P03": "lock timeout", "40001": "serialization failure",
          "57014": "statement timeout"}
AUDIT = [
    "CREATE TABLE soak_deleted (tbl text NOT NULL, row jsonb NOT NULL, app text NOT NULL)",
    """
    CREATE FUNCTION soak_audit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO soak_deleted VALUES (TG_TABLE_NAME, to_jsonb(OLD),
                                       current_setting('application_name'));
      RETURN OLD;
    END $$
    """,
    *(f"CREATE TRIGGER soak_audit AFTER DELETE ON {t} FOR EACH ROW "
      "EXECUTE FUNCTION soak_audit()"
      for t in ("sessions", "kernels", "session_dependencies", "association_scopes_entities")),
]
@pytest.fixture(scope="module")
def platform_url(pg_cluster: LocalCluster) -> str:
    return pg_cluster.create_database("pruner_platform")


# ------------------------------------------------------------------------------ the platform
class Platform:
    """The simulator: each worker owns the live sessions it spawned (so platform workers never
    deadlock each other) and touches any dead session."""

    def __init__(self, engine: AsyncEngine, live: list[str], dead: list[str]) -> None:
        self.engine = engine
        self.live = [live[w::PLATFORM_WORKERS] for w in range(PLATFORM_WORKERS)]
        self.dead = dead
        self.done = Counter[str]()
        self.aborted: list[str] = []
        self.parent_gone = 0
        self.stop = asyncio.Event()

    async def run(self, w: int) -> None:
        rng = random.Random(w)
        actions = [(self.kernel_then_session, 3), (self.session_then_kernel, 3),
                   (self.touch_dead, 4), (self.touch_dead_reverse, 4), (self.terminate, 2),
                   (self.spawn, 1), (self.add_kernel, 2), (self.add_edges, 3),
                   (self.grant, 2), (self.revoke, 2)]
        fns, weights = zip(*actions, strict=True)
        while not self.stop.is_set():
            fn = rng.choices(fns, weights)[0]
            try:
                async with self.engine.begin() as conn:
                    await fn(conn, w, rng)
                self.done[fn.__name__] += 1
            except DB_ERRORS as exc:
                code = sqlstate(exc)
                if code == "23503":  # the row it names was pruned: its own business
                    self.parent_gone += 1
                elif code in ABORTS:
                    self.aborted.append(f"{fn.__name__}: {ABORTS[code]}: {exc}"[:400])
                else:
                    raise
            await asyncio.sleep(0)

    def _mine(self, w: int, rng: random.Random) -> str | None:
        return rng.choice(self.live[w]) if self.live[w] else None

    async def kernel_then_session(self, conn: AsyncConnection, w: int,
                                  rng: random.Random) -> None:
        s = self._mine(w, rng)
        await conn.execute(sa.text("UPDATE kernels SET status = 'RUNNING' "
                                   "WHERE session_id = :s"), {"s": s})
        await asyncio.sleep(0.002)
        await conn.execute(sa.text("UPDATE sessions SET result = 'UNDEFINED' WHERE id = :s"),
                           {"s": s})

    async def session_then_kernel(self, conn: AsyncConnection, w: int,
                                  rng: random.Random) -> None:
        s = self._mine(w, rng)
        await conn.execute(sa.text("UPDATE sessions SET result = 'UNDEFINED' WHERE id = :s"),
                           {"s": s})
        await asyncio.sleep(0.002)
        await conn.execute(sa.text("UPDATE kernels SET status = 'RUNNING' "
                                   "WHERE session_id = :s"), {"s": s})

    async def touch_dead(self, conn: AsyncConnection, w: int, rng: random.Random) -> None:
        """A late event on a dead session: its kernels first, then the session (the prune
        takes the session first, then the kernels)."""
        d = rng.choice(self.dead)
        await conn.execute(sa.text("UPDATE kernels SET cluster_role = cluster_role "
                                   "WHERE session_id = :s"), {"s": d})
        await asyncio.sleep(0.003)
        await conn.execute(sa.text("UPDATE sessions SET result = result WHERE id = :s"),
                           {"s": d})

    async def touch_dead_reverse(self, conn: AsyncConnection, w: int,
                                 rng: random.Random) -> None:
        d = rng.choice(self.dead)
        await conn.execute(sa.text("SELECT 1 FROM sessions WHERE id = :s FOR UPDATE"), {"s": d})
        await asyncio.sleep(0.003)
        await conn.execute(sa.text("SELECT 1 FROM kernels WHERE session_id = :s FOR UPDATE"),
                           {"s": d})

    async def terminate(self, conn: AsyncConnection, w: int, rng: random.Random) -> None:
        """A live session ends, back-dated: it qualifies at once, behind the drains."""
        if len(self.live[w]) < 20:
            return
        s = self.live[w].pop(rng.randrange(len(self.live[w])))
        ago = {"d": rng.randint(2, 400)}
        await conn.execute(sa.text("DELETE FROM routings WHERE session = :s"), {"s": s})
        await conn.execute(sa.text(
            "UPDATE kernels SET status = 'TERMINATED', "
            "terminated_at = now() - make_interval(days => :d) WHERE session_id = :s"),
            {"s": s, **ago})
        await conn.execute(sa.text(
            "UPDATE sessions SET status = 'TERMINATED', "
            "terminated_at = now() - make_interval(days => :d) WHERE id = :s"), {"s": s, **ago})
        self.dead.append(s)

    async def spawn(self, conn: AsyncConnection, w: int, rng: random.Random) -> None:
        s = (await conn.execute(sa.text(
            "INSERT INTO sessions (name, user_uuid, group_id, status) VALUES ('spawned', "
            "gen_random_uuid(), gen_random_uuid(), 'RUNNING') RETURNING id::text"))).scalar_one()
        await conn.execute(sa.text(
            "INSERT INTO kernels (session_id, status) SELECT :s, 'RUNNING' "
            "FROM generate_series(1, 2)"), {"s": s})
        await conn.execute(sa.text("INSERT INTO routings (endpoint, session) "
                                   "VALUES (gen_random_uuid(), :s)"), {"s": s})
        await conn.execute(sa.text(
            "INSERT INTO association_scopes_entities (scope_type, scope_id, entity_type, "
            "entity_id) VALUES ('user', gen_random_uuid()::text, 'session', :s)"), {"s": s})
        self.live[w].append(s)

    async def add_kernel(self, conn: AsyncConnection, w: int, rng: random.Random) -> None:
        """A kernel appears on a dead session (a late record), maybe one being pruned."""
        await conn.execute(sa.text(
            "INSERT INTO kernels (session_id, status, terminated_at) "
            "VALUES (:s, 'TERMINATED', now() - interval '3 days')"), {"s": rng.choice(self.dead)})

    async def add_edges(self, conn: AsyncConnection, w: int, rng: random.Random) -> None:
        """Dense, crossing dependency edges: dead-dead and dead-live, both directions."""
        pool = self.dead + [s for mine in self.live for s in mine[:50]]
        pairs = {(rng.choice(pool), rng.choice(self.dead)) for _ in range(4)}
        for a, b in pairs:
            if a != b:
                await conn.execute(sa.text(
                    "INSERT INTO session_dependencies VALUES (:a, :b), (:b, :a) "
                    "ON CONFLICT DO NOTHING"), {"a": a, "b": b})

    async def grant(self, conn: AsyncConnection, w: int, rng: random.Random) -> None:
        s = rng.choice(self.dead) if rng.random() < 0.7 else self._mine(w, rng)
        await conn.execute(sa.text(
            "INSERT INTO association_scopes_entities (scope_type, scope_id, entity_type, "
            "entity_id) VALUES ('project', gen_random_uuid()::text, 'session', :s)"), {"s": s})

    async def revoke(self, conn: AsyncConnection, w: int, rng: random.Random) -> None:
        await conn.execute(sa.text(
            "DELETE FROM association_scopes_entities WHERE id = (SELECT id FROM "
            "association_scopes_entities WHERE entity_id = :s AND scope_type = 'project' "
            "LIMIT 1)"), {"s": rng.choice(self.dead)})


# ------------------------------------------------------------------------------ the soak
async def test_eight_drains_beside_a_busy_platform_lose_nothing_and_never_wait(
    platform_url: str, tmp_path: Path
) -> None:
    setup = engine_for(platform_url, app="soak-setup")
    await create_schema(setup)
    async with setup.begin() as conn:
        for stmt in AUDIT:
            await conn.execute(sa.text(stmt))
        await seed_sessions(conn, dead=DEAD, live=LIVE, blocked=20, stuck=20, deps=DEAD // 2,
                            seed=0.11)
        dead = [r[0] for r in await conn.execute(sa.text(
            "SELECT id::text FROM sessions WHERE status <> 'RUNNING'"))]
        live = [r[0] for r in await conn.execute(sa.text(
            "SELECT id::text FROM sessions WHERE status = 'RUNNING'"))]
    platform_engine = engine_for(platform_url, app="platform")
    platform = Platform(platform_engine, live, dead)
    sampler_stop = asyncio.Event()
    sampler = asyncio.create_task(sample_waits(setup, sampler_stop))
    workers = [asyncio.create_task(platform.run(w)) for w in range(PLATFORM_WORKERS)]
    await asyncio.sleep(0.5)  # the platform is busy before the first drain starts
    procs = []
    for i in range(PRUNERS):
        which = ["--all"] if i == PRUNERS - 1 else ["sessions"]
        url = f"{platform_url}?application_name=pruner-soak-{i}"
        procs.append(await asyncio.create_subprocess_exec(
            sys.executable, "-m", "core", "drain", *which, "--older-than", "1d",
            "--batch-size", str(BATCH), "--yes", "--json", "--csv", str(tmp_path / f"{i}.csv"),
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={k: v for k, v in os.environ.items() if not k.startswith("PRUNER_")}
            | {"PRUNER_DATABASE_URL": url, "PRUNER_OPERATOR": f"soak-{i}"}))
    try:
        outputs = await asyncio.wait_for(
            asyncio.gather(*(p.communicate() for p in procs)), size(300, 3_000))
    finally:
        platform.stop.set()
        await asyncio.gather(*workers, return_exceptions=True)
        sampler_stop.set()
        waits = await sampler
        for p in procs:
            if p.returncode is None:
                p.kill()
    for w in workers:
        assert w.exception() is None, w.exception()

    # every drain ended, done
    docs = []
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err.decode()[-2000:]
        docs.append(json.loads(out))
    drains = [d for doc in docs for d in doc.get("drains", [doc])]
    assert all(d["stopped"] == "done" for d in drains), [d["stopped"] for d in drains]

    # each pruned id reported once, and exactly the sessions that went
    reported = [row["id"] for i in range(PRUNERS) if (tmp_path / f"{i}.csv").exists()
                for row in csv.DictReader((tmp_path / f"{i}.csv").open())
                if row["entity"] == "sessions"]
    async with setup.connect() as conn:
        gone = (await conn.execute(sa.text(
            "SELECT tbl, row, app FROM soak_deleted"))).all()
        journal = (await conn.execute(sa.text(
            "SELECT coalesce(sum(r.count), 0), coalesce(array_agg(i.id), '{}') FROM "
            "pruner.prune_runs r JOIN pruner.prune_run_ids p ON p.run_id = r.id "
            "CROSS JOIN unnest(p.ids) AS i(id) "
            "WHERE r.entity = 'sessions' AND r.status = 'succeeded'"))).one()
        runs_count = (await conn.execute(sa.text(
            "SELECT coalesce(sum(count), 0) FROM pruner.prune_runs "
            "WHERE entity = 'sessions' AND status = 'succeeded'"))).scalar_one()
        running = (await conn.execute(sa.text(
            "SELECT count(*) FROM pruner.prune_drains WHERE status = 'running'"))).scalar_one()
        retried = (await conn.execute(sa.text(
            "SELECT count(*) FROM pruner.prune_runs WHERE status = 'retried'"))).scalar_one()
    by_table: dict[str, list[dict[str, Any]]] = {}
    for tbl, row, app in gone:
        if app == "platform":  # its own revokes
            assert tbl == "association_scopes_entities", (tbl, row)
            continue
        assert app.startswith("pruner-soak"), (tbl, app)  # nobody else deletes
        by_table.setdefault(tbl, []).append(row)
    sessions_gone = {r["id"] for r in by_table.get("sessions", [])}
    assert len(reported) == len(set(reported)), "an id reported twice"
    assert set(reported) == sessions_gone
    assert set(journal[1]) == sessions_gone and runs_count == len(sessions_gone)
    assert running == 0

    # 0 live rows lost
    assert all(r["status"] in ("TERMINATED", "CANCELLED") for r in by_table["sessions"])
    kernels_gone = {r["id"] for r in by_table.get("kernels", [])}
    assert all(r["status"] in ("TERMINATED", "CANCELLED") and r["session_id"] in sessions_gone
               for r in by_table.get("kernels", []))
    assert all(r["session_id"] in sessions_gone or r["depends_on"] in sessions_gone
               for r in by_table.get("session_dependencies", []))
    named = sessions_gone | kernels_gone
    assert all(r["entity_id"] in named or r["scope_id"] in named
               for r in by_table.get("association_scopes_entities", []))

    # 0 platform transactions aborted by a prune
    assert platform.aborted == [], platform.aborted[:5]
    print(f"\nplatform soak: {PRUNERS} drains (batches of {BATCH}), {DEAD:,} dead + {LIVE:,} "
          f"live sessions; pruned {len(sessions_gone):,} sessions, "
          f"{len(kernels_gone):,} kernels, "
          f"{len(by_table.get('session_dependencies', [])):,} edges, "
          f"{len(by_table.get('association_scopes_entities', [])):,} RBAC rows; "
          f"ids reported once: {len(reported):,}; retried batches: {retried}; busy "
          f"(deferred): {sum(d['busy'] for d in drains):,}; parked: "
          f"{sum(len(d['parked']) for d in drains)}; "
          f"platform transactions: {sum(platform.done.values()):,} "
          f"({dict(platform.done)}), aborted: 0, inserts whose parent was pruned: "
          f"{platform.parent_gone}; longest sampled lock wait: pruner "
          f"{waits['pruner'] * 1000:.1f} ms, platform {waits['platform'] * 1000:.1f} ms "
          f"({waits['samples']:,} samples, pruner waiting in {waits['pruner_waiting_samples']})")
    assert waits["pruner"] < 1.0, waits  # bounded by lock_timeout (20 ms), never a real wait
