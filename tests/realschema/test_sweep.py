"""The platform's own retention sweep beside the pack: its policies read side by side with the
pruners that cover them, its periods as cutoffs, and a prune running while the sweep deletes the
same rows (imitated by the sweep's own SQL pattern) stays correct."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core import errors, registry
from core.backendai import retention
from core.backendai.facts import R26_8, R26_9
from core.entities import RETENTION
from core.repository.pruner import execute, sweep
from core.settings import PruneSettings
from tests.clirun import cli
from tests.realschema import pack

pytestmark = pytest.mark.realschema

RELEASES = (R26_8, R26_9)


# ---------------------------------------------------------------------------- policies
@pytest.mark.parametrize("release", RELEASES)
async def test_policies_side_by_side_with_the_pruners(rolled_back: Any, release: str) -> None:
    conn: AsyncConnection = await rolled_back(release)
    swept = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
    await conn.execute(sa.text(
        "UPDATE retention_policies SET enabled = true, retention_period = interval '30 days', "
        "last_swept_at = :at WHERE category = 'sessions'"), {"at": swept})
    found = {p.category: p for p in await retention.policies(conn, RETENTION)}
    assert list(found) == list(retention.CATEGORIES)  # the seed has all eight, in order
    s = found["sessions"]
    assert (s.enabled, s.period, s.period_text, s.last_swept_at) == (
        True, timedelta(days=30), "30 days", swept)
    assert s.pruners == ("sessions", "sessions_errored")
    assert found["usage_records"].period == timedelta(days=90)
    assert not found["logs"].enabled and found["logs"].last_swept_at is None
    assert set(found["logs"].pruners) == {"audit_logs", "event_logs", "error_logs"}
    # every pruner but vfolders (the platform has no category for them) covers one
    covered = {n for p in found.values() for n in p.pruners}
    names = {n for n in registry.names() if n in RETENTION}
    assert covered == names and "vfolders" not in covered
    doc = s.to_dict()
    assert doc["period"] == "30 days" and doc["period_seconds"] == 30 * 86400
    assert doc["last_swept_at"] == swept.isoformat() and doc["pruners"] == list(s.pruners)

    # a category's period as a cutoff: the database's now() minus the period
    now = (await conn.execute(sa.text("SELECT now()"))).scalar_one()
    assert await retention.cutoff_for_policy(conn, "sessions") == now - timedelta(days=30)
    one_year = await retention.cutoff_for_policy(conn, "logs")
    assert timedelta(days=365) <= now - one_year <= timedelta(days=366)
    p = await registry.resolve(conn, "sessions")
    req = sweep(p, before=await retention.cutoff_for_policy(conn, "sessions"), limit=10)
    assert req.before == now - timedelta(days=30)
    with pytest.raises(errors.InvalidArgument, match="unknown retention category 'session'"):
        await retention.cutoff_for_policy(conn, "session")
    await conn.execute(sa.text("DELETE FROM retention_policies WHERE category = 'login'"))
    with pytest.raises(errors.SchemaMissing, match="no row for 'login'"):
        await retention.cutoff_for_policy(conn, "login")


async def test_no_policies_without_the_table(rolled_back: Any) -> None:
    conn: AsyncConnection = await rolled_back(R26_9)
    await conn.execute(sa.text("DROP TABLE retention_policies"))
    assert await retention.policies(conn, RETENTION) == []
    assert not await retention.has_policies(conn)
    with pytest.raises(errors.SchemaMissing, match="no retention_policies table"):
        await retention.cutoff_for_policy(conn, "sessions")


# ---------------------------------------------------------------------------- both at once
# The platform's `sessions` category by its own SQL pattern (26.8/26.9 RetentionPurgerSpec):
# in one transaction, batches of `DELETE … WHERE pk IN (SELECT pk FROM (SELECT t.* …) AS anon
# LIMIT :n)` until a batch deletes fewer than :n; no ORDER BY, no SKIP LOCKED, no timeout.
SWEEP_KERNELS = sa.text("""
DELETE FROM kernels WHERE kernels.id IN (
  SELECT anon.id FROM (SELECT kernels.* FROM kernels
                       WHERE kernels.terminated_at < :threshold
                         AND kernels.status IN ('ERROR', 'TERMINATED', 'CANCELLED')) AS anon
  LIMIT :n)
RETURNING kernels.id
""")
SWEEP_SESSIONS = sa.text("""
DELETE FROM sessions WHERE sessions.id IN (
  SELECT anon.id FROM (SELECT sessions.* FROM sessions
                       WHERE sessions.terminated_at < :threshold
                         AND sessions.status IN ('ERROR', 'TERMINATED', 'CANCELLED')
                         AND NOT EXISTS (SELECT 1 FROM kernels
                                         WHERE kernels.session_id = sessions.id)
                         AND NOT EXISTS (SELECT 1 FROM routings
                                         WHERE routings.session = sessions.id)) AS anon
  LIMIT :n)
RETURNING sessions.id
""")


async def platform_sweep(engine: AsyncEngine, threshold: datetime, batch: int,
                         pause: float) -> dict[str, set[str]]:
    gone: dict[str, set[str]] = {"kernels": set(), "sessions": set()}
    async with engine.begin() as conn:
        for table, stmt in (("kernels", SWEEP_KERNELS), ("sessions", SWEEP_SESSIONS)):
            while True:
                got = {str(i) for i in (await conn.execute(
                    stmt, {"threshold": threshold, "n": batch})).scalars()}
                gone[table] |= got
                await asyncio.sleep(pause)  # the other side runs meanwhile
                if len(got) < batch:
                    break
        await asyncio.sleep(pause * 10)  # commit late: our prunes meet its locks
    return gone


async def our_prunes(engine: AsyncEngine, threshold: datetime, sweeping: asyncio.Task[Any],
                     ) -> tuple[list[Any], float, int]:
    """Our prunes until both sides are done: their results, the longest call (s) and how many
    calls the sweep made fail whole (a row it changed under a guard; retried)."""
    settings = PruneSettings(lock_timeout_ms=300)  # below deadlock_timeout: we give way
    results: list[Any] = []
    longest = 0.0
    refused = 0
    while True:
        idle = True
        for name in ("sessions", "sessions_errored"):
            p = await registry.resolve(engine, name)
            started = time.monotonic()
            try:
                r = await execute(engine, sweep(p, before=threshold, limit=25), settings=settings)
            except errors.PruneFailed:
                idle = False  # a row changed under a guard, or a lock ran out: try again
                refused += 1
                continue
            finally:
                longest = max(longest, time.monotonic() - started)
            results.append(r)
            idle = idle and r.count == 0 and r.busy == 0
        if idle and sweeping.done():
            return results, longest, refused
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("release", RELEASES)
async def test_a_prune_beside_the_platform_sweep_stays_correct(fresh: Any, release: str) -> None:
    engine: AsyncEngine = await fresh(release)
    threshold = datetime.now(UTC) - timedelta(days=60)
    async with engine.begin() as conn:
        await pack.snapshot(conn)
    sweeping = asyncio.create_task(platform_sweep(engine, threshold, batch=9, pause=0.05))
    results, longest, refused = await our_prunes(engine, threshold, sweeping)
    swept = await sweeping
    async with engine.begin() as conn:
        changes = await pack.compare(conn)
        gone_sessions = {str(r[0]) for r in await conn.execute(sa.text(
            pack.ROOT_GONE), {"root": "sessions"})}
        # every deleted session and kernel was terminal and old enough for one of the two
        wrong = (await conn.execute(sa.text("""
            SELECT g.tbl, g.row ->> 'id' FROM pack_test.gone g
            WHERE g.tbl IN ('sessions', 'kernels')
              AND NOT (g.row ->> 'status' IN ('TERMINATED', 'CANCELLED', 'ERROR')
                       AND (g.tbl = 'kernels' OR (g.row ->> 'terminated_at')::timestamptz
                                                 < :threshold))"""),
            {"threshold": threshold})).all()
    assert not wrong, wrong
    ours = {str(i) for r in results for i in r.ids}
    assert ours and swept["sessions"], (len(ours), len(swept["sessions"]))
    assert not ours & swept["sessions"]
    assert gone_sessions == ours | swept["sessions"]
    # what we reported is what we deleted: our counts plus the sweep's are the deltas
    ours_deleted = sum(r.deleted.get("sessions", 0) for r in results)
    assert ours_deleted == len(ours)
    assert changes.deleted["sessions"] == ours_deleted + len(swept["sessions"])
    assert changes.deleted["kernels"] == sum(r.deleted.get("kernels", 0) for r in results) \
        + len(swept["kernels"])
    assert longest < 10, longest  # nothing of ours waited on the sweep beyond lock_timeout
    busy = sum(r.busy for r in results)
    print(f"\n{release}: ours {len(ours)} sessions in {len(results)} prunes ({busy} busy, "
          f"{refused} refused and retried), the sweep {len(swept['sessions'])} sessions, "
          f"{len(swept['kernels'])} kernels")
    # they met: a parent left busy behind a row the sweep held, or a call the sweep's change
    # made fail whole (there is no other writer)
    assert busy + refused, "the two never met: the test proves nothing"
    # the database holds together; no RBAC row names a session we pruned (the 26.8 sweep
    # itself leaves its sessions' association rows behind: that is the platform's doing)
    async with engine.begin() as conn:
        await conn.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))
        from tests.realschema.test_schema_build import _FK_ORPHANS
        await conn.execute(sa.text(_FK_ORPHANS))
        rbac = ("SELECT count(*) FROM association_scopes_entities WHERE "
                "(entity_type = 'session' AND entity_id = ANY(:ids)) OR "
                "(scope_type = 'session' AND scope_id = ANY(:ids))") if release == R26_8 else (
                "SELECT count(*) FROM virtual_entities WHERE entity_type = 'session' "
                "AND entity_id::text = ANY(:ids)")
        assert (await conn.execute(sa.text(rbac), {"ids": sorted(ours)})).scalar() == 0


# ---------------------------------------------------------------------------- the CLI
@pytest.mark.parametrize("release", RELEASES)
async def test_the_cli_drains_a_retention_category_at_the_policys_cutoff(fresh: Any,
                                                                         release: str) -> None:
    """`pruner drain --category logs --policy logs`: the pruners of the platform's category, in
    one process, each with its own drain id, at the cutoff the platform's sweep would use; the
    rows younger than that stay. `--all` then drains everything that can run on the release."""
    engine = await fresh(release)
    url = engine.url.render_as_string(hide_password=False)
    async with engine.begin() as conn:
        await conn.execute(sa.text("UPDATE retention_policies SET retention_period = "
                                   "interval '60 days' WHERE category = 'logs'"))
        cutoff = (await conn.execute(sa.text("SELECT now() - interval '60 days'"))).scalar_one()
        def n(t: str, *where: Any) -> Any:
            return sa.select(sa.func.count()).select_from(sa.table(t)).where(*where)

        old = {t: (await conn.execute(n(t, sa.column("created_at") < cutoff))).scalar_one()
               for t in ("audit_logs", "event_logs", "error_logs")}
        total = {t: (await conn.execute(n(t))).scalar_one() for t in old}
    assert all(old.values()) and all(total[t] > old[t] for t in old)  # both kinds seeded
    # `pruner list` on this database: every category of the platform's sweep beside its pruners
    r = await cli(url, "list")
    assert r.returncode == 0, r.stderr
    assert "the platform's own sweep (retention_policies)" in r.stdout
    assert re.search(r"^logs\s+60 days\s+(yes|no)\s+\S+\s+.*audit_logs", r.stdout, re.M)
    r = await cli(url, "list", "--json")
    listed = {p["category"]: p for p in json.loads(r.stdout)["retention_policies"]}
    assert set(listed) == set(retention.CATEGORIES) and listed["logs"]["period"] == "60 days"
    assert {"audit_logs", "event_logs", "error_logs"} <= set(listed["logs"]["pruners"])
    r = await cli(url, "drain", "--category", "logs", "--policy", "logs", "--batch-size", "50",
                  "--yes", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert sorted(d["entity"] for d in doc["drains"]) == sorted(old)
    assert {d["entity"]: d["count"] for d in doc["drains"]} == old
    assert all(d["stopped"] == "done" for d in doc["drains"])
    assert len({d["drain_id"] for d in doc["drains"]}) == 3
    cutoffs = {datetime.fromisoformat(d["cutoff"]) for d in doc["drains"]}
    assert len(cutoffs) == 1 and abs(cutoffs.pop() - cutoff) < timedelta(seconds=30)
    async with engine.connect() as conn:
        for t in old:
            left = (await conn.execute(sa.select(sa.func.count()).select_from(sa.table(t)))
                    ).scalar_one()
            assert left == total[t] - old[t]
    r = await cli(url, "drain", "--all", "--older-than", "30d", "--batch-size", "200", "--yes",
                  "--json")
    assert r.returncode == 0, r.stderr[-2000:]
    doc = json.loads(r.stdout)
    assert doc["stopped"] == "done" and doc["count"] > 0
    ran = [d["entity"] for d in doc["drains"]]
    assert "routings" in ran and "endpoints" in ran
    assert ran.index("routings") < ran.index("endpoints")  # what blocks runs first
    left_out = {s["name"] for s in doc["skipped"]}
    assert left_out == ({"entity_shares"} if release == "26.8" else
                        {"role_invitations", "vfolder_invitations"})
