"""Backlogs from the command line (issue 11, items 3, 5 and 6): several pruners in one drain run,
in drain order, under one budget; `pruner drains` and `pruner stop` (the stop flag is in the
database, so another process can ask); `pruner parked` and its --retry; `pruner restore`;
--retries."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from core.reference_schema import audit_logs, sessions, vfolders
from tests.clirun import cli
from tests.factories import add_logs, add_session, add_vfolder, count, snapshot
from tests.pg.test_cli import on_a_terminal

pytestmark = pytest.mark.timeout(300)


async def test_one_run_drains_several_pruners_in_drain_order(db, database_url, tmp_path):
    s = [await add_session(db, age_days=10 + i) for i in range(7)]
    await add_logs(db, [20 + i for i in range(5)])
    v = await add_vfolder(db, age_days=40)
    out = tmp_path / "ids.csv"
    r = await cli(database_url, "drain", "vfolders", "sessions", "audit_logs", "sessions",
                  "--older-than", "1d", "--batch-size", "3", "--yes", "--json",
                  "--csv", str(out))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [d["entity"] for d in doc["drains"]] == ["audit_logs", "sessions", "vfolders"]
    assert [d["count"] for d in doc["drains"]] == [5, 7, 1] and doc["count"] == 13
    assert all(d["stopped"] == "done" for d in doc["drains"]) and doc["not_started"] == []
    assert len({d["drain_id"] for d in doc["drains"]}) == 3  # one drain id per pruner
    assert await count(db, sessions) == await count(db, audit_logs) == 0
    assert await count(db, vfolders) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert sorted(r["entity"] for r in rows) == ["audit_logs"] * 5 + ["sessions"] * 7 + [
        "vfolders"]
    assert {r["id"] for r in rows if r["entity"] == "sessions"} == {str(i) for i in s}
    assert str(v) in {r["id"] for r in rows}


async def test_drain_all_and_its_budget_covers_the_whole_run(db, database_url):
    for i in range(4):
        await add_session(db, age_days=10 + i)
    await add_logs(db, [20 + i for i in range(4)])
    r = await cli(database_url, "drain", "--all", "--older-than", "1d", "--batch-size", "2",
                  "--max-batches", "3", "--yes", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    # audit_logs: 2 batches (done); sessions: the one batch left in the budget
    assert [(d["entity"], d["batches"], d["stopped"]) for d in doc["drains"]] == [
        ("audit_logs", 2, "done"), ("sessions", 1, "max_batches")]
    assert doc["not_started"] == ["vfolders"] and doc["stopped"] == "max_batches"
    assert await count(db, sessions) == 2
    r = await cli(database_url, "drain", "--all", "--older-than", "1d", "--yes")
    assert r.returncode == 0 and "not started" not in r.stdout, r.stdout
    assert await count(db, sessions) == 0


@pytest.mark.parametrize("argv, says", [
    (["drain", "--older-than", "1d", "--yes"], "name the pruners to drain, or give --all"),
    (["drain", "sessions", "--all", "--older-than", "1d", "--yes"], "one of them"),
    (["drain", "sessions", "nosuch", "--older-than", "1d", "--yes"], "unknown entity 'nosuch'"),
    (["prune", "sessions", "--older-than", "1d", "--retries", "-1", "--yes"], "--retries"),
    (["drain", "sessions", "--older-than", "1d", "--retries", "x", "--yes"], "--retries"),
    (["parked", "--retry", "--yes"], "--retry needs the pruner"),
    (["stop", "nosuch-drain"], "no drain nosuch-drain in the journal"),
])
async def test_bad_backlog_commands_are_usage_errors_and_change_nothing(db, database_url,
                                                                        argv, says):
    await add_session(db, age_days=30)
    before = await snapshot(db)
    r = await cli(database_url, *argv)
    assert r.returncode == 2 and says in r.stderr, (r.returncode, r.stderr)
    assert "\n" not in r.stderr.strip()
    assert await snapshot(db) == before


async def test_a_drain_is_stopped_from_another_process(db, database_url):
    for i in range(12):
        await add_session(db, age_days=10 + i)
    # its own process (in-process CLI runs share sys.stdout)
    running = asyncio.create_task(asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "core", "drain", "sessions", "--older-than", "1d",
                         "--batch-size", "1", "--pause", "0.5", "--yes", "--json"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "PRUNER_DATABASE_URL": database_url, "PRUNER_OPERATOR": "t"}))
    drain_id = None
    for _ in range(400):
        listed = json.loads((await cli(database_url, "drains", "--running", "--json")).stdout)
        if listed["drains"] and listed["drains"][0]["batches"] >= 1:
            drain_id = listed["drains"][0]["id"]
            break
        await asyncio.sleep(0.05)
    assert drain_id is not None, "the drain shows in `pruner drains --running`"
    r = await cli(database_url, "stop", drain_id[:8])  # a unique start of the id is enough
    assert r.returncode == 0 and "stop requested" in r.stdout, r.stderr
    done = await asyncio.wait_for(running, 120)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["stopped"] == "stopped" and 0 < doc["count"] < 12
    assert await count(db, sessions) == 12 - doc["count"]
    r = await cli(database_url, "drains")
    header, first = r.stdout.splitlines()[:2]
    assert header.split()[:3] == ["DRAIN", "ENTITY", "STATUS"]
    assert first.split()[:3] == [drain_id, "sessions", "stopped"]
    r = await cli(database_url, "stop", drain_id)
    assert r.returncode == 2 and "has already ended (stopped)" in r.stderr


POISON = """
CREATE OR REPLACE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.name = 'poison' THEN RAISE EXCEPTION 'this row cannot go'; END IF;
  RETURN OLD;
END $$
"""


async def test_a_poison_row_is_parked_listed_and_retried_on_request(db, database_url):
    async with db.begin() as conn:
        await conn.execute(sa.text(POISON))
        await conn.execute(sa.text("CREATE TRIGGER poison BEFORE DELETE ON sessions "
                                   "FOR EACH ROW EXECUTE FUNCTION poison()"))
    try:
        ok = [await add_session(db, age_days=10 + i) for i in range(5)]
        bad = await add_session(db, age_days=50)  # the oldest: first in every batch
        async with db.begin() as conn:
            await conn.execute(sessions.update().where(sessions.c.id == bad).values(
                name="poison"))
        r = await cli(database_url, "drain", "sessions", "--older-than", "1d", "--batch-size",
                      "4", "--retries", "0", "--yes")
        assert r.returncode == 0, r.stderr
        assert "deleted 5 sessions" in r.stdout and "parked: 1" in r.stdout, r.stdout
        r = await cli(database_url, "parked", "sessions", "--json")
        (entry,) = json.loads(r.stdout)["parked"]
        assert entry["row_key"] == str(bad) and "this row cannot go" in entry["reason"]
        r = await cli(database_url, "parked")
        assert r.stdout.splitlines()[0].split() == ["ENTITY", "KEY", "PARKED", "(UTC)",
                                                    "DRAIN", "REASON"]
        # the retry still fails while the trigger is there: nothing changes, still parked
        r = await cli(database_url, "parked", "sessions", "--retry", "--retries", "0", "--yes")
        assert r.returncode == 1 and "this row cannot go" in r.stderr
        assert await count(db, sessions) == 1
    finally:
        async with db.begin() as conn:
            await conn.execute(sa.text("DROP TRIGGER IF EXISTS poison ON sessions"))
    r = await cli(database_url, "parked", "sessions", "--retry", "--yes", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["released"] == [str(bad)]
    assert await count(db, sessions) == 0 and ok
    r = await cli(database_url, "parked")
    assert r.stdout.strip() == "no parked rows"


async def test_restore_puts_an_archived_run_back_and_asks_first(db, database_url):
    for i in range(3):
        await add_session(db, age_days=10 + i)
    before = await snapshot(db)
    r = await cli(database_url, "prune", "sessions", "--older-than", "1d", "--archive", "--yes",
                  "--json")
    run_id = json.loads(r.stdout)["run_id"]
    assert await count(db, sessions) == 0
    asked = await asyncio.to_thread(on_a_terminal, database_url, "restore", str(run_id),
                                    stdin="no\n")
    assert asked.returncode == 1 and "put back what run" in asked.stderr
    assert await count(db, sessions) == 0
    r = await cli(database_url, "restore", str(run_id), "--yes", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["inserted"]["sessions"] == 3
    assert await snapshot(db) == before
    r = await cli(database_url, "restore", str(run_id), "--yes")
    assert r.returncode == 2 and "restored already" in r.stderr, r.stderr
