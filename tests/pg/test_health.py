"""core.health against the real server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from core import errors, health, registry, sweep
from core.demo.seed import seed
from core.reference_schema import audit_logs, sessions

SESSIONS = registry.get("sessions")


async def test_the_reference_schema_has_every_fk_indexed(db):
    assert await health.missing_fk_indexes(db) == []


async def test_an_unindexed_fk_is_reported_and_an_index_clears_it(db):
    async with db.begin() as conn:
        await conn.execute(sa.text("DROP TABLE IF EXISTS health_probe"))
        await conn.execute(sa.text(
            "CREATE TABLE health_probe (id bigint PRIMARY KEY, extra int, "
            "session_id uuid REFERENCES sessions(id))"))
    try:
        missing = await health.missing_fk_indexes(db)
        assert missing == [health.MissingIndex("health_probe", ("session_id",), "sessions")]
        # a partial index, or one where the FK is not the leading column, does not count
        async with db.begin() as conn:
            await conn.execute(sa.text(
                "CREATE INDEX health_probe_partial ON health_probe (session_id) WHERE extra > 0"))
            await conn.execute(sa.text(
                "CREATE INDEX health_probe_second ON health_probe (extra, session_id)"))
        assert len(await health.missing_fk_indexes(db)) == 1
        async with db.begin() as conn:
            await conn.execute(sa.text(
                "CREATE INDEX health_probe_lead ON health_probe (session_id, extra)"))
        assert await health.missing_fk_indexes(db) == []
    finally:
        async with db.begin() as conn:
            await conn.execute(sa.text("DROP TABLE health_probe"))


async def test_the_sessions_candidate_plan_reads_no_table_in_full(db):
    await seed(db, sessions=20_000)  # seed() runs ANALYZE
    plan = await health.candidate_plan(db, sweep(SESSIONS, before=datetime.now(UTC), limit=1_000))
    assert plan.ok and plan.full_scans == (), plan.plan
    assert "ix_sessions_prunable" in plan.plan


async def test_a_plan_without_a_usable_index_reports_its_full_scan(db):
    async with db.begin() as conn:
        await conn.execute(sa.text("SET LOCAL enable_indexscan = off"))
        await conn.execute(sa.text("SET LOCAL enable_bitmapscan = off"))
        plan = await health.candidate_plan(
            conn, sweep(registry.get("audit_logs"), before=datetime.now(UTC), limit=10))
    assert not plan.ok and plan.full_scans == ("audit_logs",)
    assert "Seq Scan on audit_logs" in plan.plan


async def test_table_stats_and_server_version(db):
    await seed(db, sessions=500)
    # The statistics views are estimates, flushed by each backend when it goes idle (up to ~10 s
    # on PostgreSQL 15) and set by ANALYZE; what is certain is that they catch up.
    for _ in range(300):
        stats = await health.table_stats(db, [sessions.name, audit_logs.name, "no_such_table"])
        if stats[0].live_tuples >= 500:
            break
        await asyncio.sleep(0.1)
    assert [s.name for s in stats] == ["sessions", "audit_logs", "no_such_table"]
    assert stats[0].total_bytes > 0 and stats[0].live_tuples >= 500
    assert stats[2] == health.TableStats("no_such_table", 0, 0, 0, None, None)
    assert (await health.server_version(db)).split(".")[0].isdigit()


async def test_errors_arrive_translated(db):
    with pytest.raises(errors.PrunerError):
        await health.table_stats(db, ["bad name; drop"])
