"""Issue 12, case 14: a drain is seen and stopped from any tab. Its progress and stop flag live in
the journal, so a second session (a new tab, another console) shows it running and its Stop
works; a drain started outside the console shows and stops the same way. Parked rows are listed
with their reason and can be retried."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from console.actions import DrainJob
from console.state import Keys
from core import journal
from core.reference_schema import sessions
from tests.console.test_apptest import (
    button,
    confirm,
    console,
    dialog_open,
    no_exceptions,
    seed_sessions,
    start_drain,
    texts,
    wait_for,
)
from tests.factories import count

DRAIN_PAGE = "views/drain.py"


@contextlib.contextmanager
def cli_drain(url: str) -> Iterator[subprocess.Popen[str]]:
    """`pruner drain` in a process of its own: one row a batch, half a second between."""
    env = {**os.environ, "PRUNER_DATABASE_URL": url, "PRUNER_OPERATOR": "cli-operator"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "core", "drain", "sessions", "--older-than", "90d",
         "--batch-size", "1", "--pause", "0.5", "--yes", "--json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=60)


async def running_in_journal(proc: subprocess.Popen[str], db: AsyncEngine,
                             ) -> journal.drains.Drain:
    """The drain `proc` runs, once it has its journal row (or fail with how it ended)."""
    while not (found := await journal.drains.listing(db, running=True)):
        assert proc.poll() is None, proc.communicate()
        await asyncio.sleep(0.05)
    return found[0]


async def test_a_new_tab_sees_a_running_drain_and_stops_it(db: AsyncEngine,
                                                           console_env: Any) -> None:
    await seed_sessions(db, [100 + i for i in range(40)])
    first = console(page=DRAIN_PAGE)
    start_drain(first, 2, pause=1.0)  # 20 slow batches: the stop lands long before the end
    job = first.session_state[Keys.DRAIN_JOB]
    assert isinstance(job, DrainJob)
    wait_for(first, lambda: job.progress is not None)
    del first  # the tab that started it is closed: the drain goes on regardless

    second = console(page=DRAIN_PAGE)  # a new tab: a new session, nothing in its state
    no_exceptions(second)
    assert Keys.DRAIN_JOB not in second.session_state
    assert f"drain `{job.drain_id[:8]}`" in texts(second), "the running drain is shown"
    assert second.get("progress"), "with its progress"
    assert any("1 drain running" in w.value for w in second.sidebar.warning), \
        "and the sidebar says so on every page"
    stop = second.button(key=f"drain.stop.{job.drain_id}")
    assert stop.label == "Stop" and not stop.disabled
    stop.click().run()
    no_exceptions(second)
    wait_for(second, lambda: job.done)
    result = job.result()
    assert result.stopped == "stopped"
    assert 0 < result.count < 40
    assert await count(db, sessions) == 40 - result.count
    record = await journal.drains.get(db, job.drain_id)
    assert (record.status, record.stop_requested, record.count) == ("stopped", True,
                                                                    result.count)
    assert "No drain is running." in texts(second)


async def test_a_drain_started_elsewhere_shows_and_stops(db: AsyncEngine, console_env: Any,
                                                         database_url: str) -> None:
    """A drain of another process: `pruner drain`, stopped from the console."""
    await seed_sessions(db, [100 + i for i in range(20)])
    with cli_drain(database_url) as proc:
        running = await running_in_journal(proc, db)
        at = console(page=DRAIN_PAGE)
        assert "by cli-operator" in texts(at)
        at.button(key=f"drain.stop.{running.id}").click().run()
        no_exceptions(at)
        out, err = await asyncio.to_thread(proc.communicate, timeout=120)
    assert proc.returncode == 0, err
    assert json.loads(out)["stopped"] == "stopped"
    assert await count(db, sessions) > 0, "it stopped before the end"
    at.run()
    assert "No drain is running." in texts(at)


async def test_stop_needs_the_right_to_prune(db: AsyncEngine, console_env: Any,
                                             database_url: str) -> None:
    console_env.delenv("PRUNER_DEMO")  # nobody signed in: preview and history only
    await seed_sessions(db, [100 + i for i in range(10)])
    with cli_drain(database_url) as proc:
        running = await running_in_journal(proc, db)
        at = console(page=DRAIN_PAGE)
        assert f"drain `{running.id[:8]}`" in texts(at)
        assert at.button(key=f"drain.stop.{running.id}").disabled
        await journal.drains.request_stop(db, running.id)
        await asyncio.to_thread(proc.communicate, timeout=120)


async def test_parked_rows_are_listed_and_retried(db: AsyncEngine, console_env: Any) -> None:
    ids = await seed_sessions(db, [200, 150])
    await journal.parked.park(db, "sessions", str(ids[0]), "child set too big for one statement")
    at = console(page=DRAIN_PAGE)
    no_exceptions(at)
    table = [d for d in at.dataframe if (d.key or "").startswith(Keys.PARKED_TABLE + ".")][0]
    assert list(table.value["row"]) == [str(ids[0])]
    assert list(table.value["reason"]) == ["child set too big for one statement"]
    assert button(at, "Retry 0 selected").disabled
    at.session_state[table.key] = {"selection": {"rows": [0]}}
    at.run()
    button(at, "Retry 1 selected").click().run()
    assert dialog_open(at)
    assert "parked (retried)" in texts(at) and "**Time range**" in texts(at)
    confirm(at, reason="retry after fix")
    no_exceptions(at)
    async with db.connect() as conn:
        left = set((await conn.execute(sa.select(sessions.c.id))).scalars())
    assert left == {ids[1]}
    assert await journal.parked.listing(db, "sessions") == []
    assert any("Pruned 1 sessions" in s.value for s in at.success)
    assert [r.reason for r in await journal.history(db)] == ["retry after fix"]


async def test_invalid_drain_inputs_disable_the_start(db: AsyncEngine, console_env: Any) -> None:
    await seed_sessions(db, [200])
    at = console(page=DRAIN_PAGE)
    for key, bad in ((Keys.DRAIN_BATCH, 0), (Keys.DRAIN_MAX_BATCHES, -1),
                     (Keys.DRAIN_PAUSE, 61.0)):
        good = at.number_input(key=key).value
        at.number_input(key=key).set_value(bad).run()
        no_exceptions(at)
        assert any("must be from" in e.value for e in at.error), key
        assert button(at, "Start drain").disabled
        assert not [m for m in at.metric if m.label == "Candidates now"], "no stale count"
        at.number_input(key=key).set_value(good).run()
        assert not button(at, "Start drain").disabled
    at.session_state[Keys.CUTOFF_DAYS] = -3
    at.run()
    assert button(at, "Start drain").disabled
    assert at.session_state[Keys.ANCHOR] - timedelta(days=90) < at.session_state[Keys.ANCHOR]


async def test_an_abandoned_drain_says_so(db: AsyncEngine, console_env: Any) -> None:
    """A drain still marked running whose process is gone (no heartbeat for 10 minutes)."""
    from datetime import UTC, datetime

    await journal.ensure_journal(db)
    await journal.drains.start(db, "0bad0bad-0000-4000-8000-000000000000", entity="sessions",
                               cutoff=datetime.now(UTC), batch_size=10, max_batches=None,
                               operator="gone", reason="", estimated=100)
    async with db.begin() as conn:
        await conn.execute(sa.text("UPDATE pruner.prune_drains SET heartbeat_at = "
                                   "now() - interval '20 minutes'"))
    at = console(page=DRAIN_PAGE)
    no_exceptions(at)
    assert any("No heartbeat for 20 minutes" in w.value for w in at.warning)
    assert not [b for b in at.button if b.label == "Stop"], "nothing left to stop"
