"""Issue 12, cases 15 and 16, and History: blocked rows listed with their reasons; confirmation
dialogs that state the time range and per-table counts (cascades included); invalid inputs shown
at their field with every action disabled, never a previous value used; a drain's batches as
one History line; restore of an archived run after a confirmation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from console.state import Keys
from console.widgets import fmt_ts
from core import journal, registry, sweep
from core.drain import drain
from core.operations import prune
from core.preview import preview
from core.reference_schema import kernels, sessions
from tests.console.test_apptest import (
    button,
    confirm,
    console,
    dialog_open,
    frame,
    no_exceptions,
    open_prune_dialog,
    seed_sessions,
    texts,
)
from tests.factories import add_session, count, days_ago

ROUTING = "still has a routing (ON DELETE RESTRICT)"
KERNEL = "has a kernel that is not terminated"


# ------------------------------------------------------------------------------ case 15
async def test_blocked_rows_are_listed_with_their_reasons(db: AsyncEngine,
                                                          console_env: Any) -> None:
    await seed_sessions(db, [300, 200])
    routed = await add_session(db, age_days=250, routed=True)
    live_kernel = await add_session(db, age_days=150, kernel_status="RUNNING")
    both = await add_session(db, age_days=350, routed=True, kernel_status="RUNNING")
    at = console()
    no_exceptions(at)
    shown = frame(at, ["id", "terminated_at", "age (days)", "blocked because"])
    assert list(shown["id"]) == [str(both), str(routed), str(live_kernel)], "oldest first"
    assert list(shown["blocked because"]) == [f"{ROUTING}; {KERNEL}", ROUTING, KERNEL]
    assert "of 3 blocked rows" in texts(at)


async def test_the_dialog_states_time_range_and_cascades(db: AsyncEngine,
                                                          console_env: Any) -> None:
    await seed_sessions(db, [300, 250, 200, 150, 120])
    at = console()
    open_prune_dialog(at, 3)
    cutoff = at.session_state[Keys.ANCHOR] - timedelta(days=90)
    pv = await preview(db, sweep(registry.get("sessions"), before=cutoff, limit=3))
    said = texts(at)
    assert pv.next_oldest is not None and pv.next_newest is not None
    assert f"from **{fmt_ts(pv.next_oldest)}** (300 days old)" in said
    assert f"to **{fmt_ts(pv.next_newest)}** (200 days old)" in said
    tables = frame(at, ["table", "rows"])
    assert dict(zip(tables["table"], tables["rows"], strict=True)) == pv.cascade
    assert pv.cascade["kernels"] == 6, "the cascade is counted, not only the entity"
    confirm(at)
    no_exceptions(at)
    assert await count(db, kernels) == 4


async def test_the_selected_rows_dialog_states_their_range(db: AsyncEngine,
                                                           console_env: Any) -> None:
    await seed_sessions(db, [300, 250, 200, 150])
    at = console()
    table = [d for d in at.dataframe if (d.key or "").startswith(Keys.CANDIDATES_TABLE)][0]
    at.session_state[table.key] = {"selection": {"rows": [1, 3]}}
    at.run()
    button(at, "Prune 2 selected").click().run()
    assert dialog_open(at)
    assert "from **" in texts(at) and "(250 days old) to **" in texts(at)
    assert "(150 days old)" in texts(at)


# ------------------------------------------------------------------------------ case 16
def actions_disabled(at: Any) -> bool:
    return all(button(at, label).disabled for label in ("Rehearse", "Prune", "Prune 0 selected"))


async def test_a_limit_of_zero_is_an_error_at_its_field(db: AsyncEngine,
                                                        console_env: Any) -> None:
    await seed_sessions(db, [300, 200])
    at = console()
    assert [m.value for m in at.metric if m.label == "Candidates"] == ["2"]
    for bad in (0, -5, 10**9):
        at.number_input(key=Keys.LIMIT).set_value(bad).run()
        no_exceptions(at)
        assert at.number_input(key=Keys.LIMIT).value == bad, "the bad value stays in the box"
        assert any("Limit (rows per prune): must be from 1 to" in e.value for e in at.error)
        assert not at.metric, "nothing is counted with a previous value"
        assert actions_disabled(at)
    at.number_input(key=Keys.LIMIT).set_value(1).run()
    assert not at.error
    assert button(at, "Prune 1 oldest").disabled is False


async def test_a_future_date_is_an_error_at_its_field(db: AsyncEngine,
                                                      console_env: Any) -> None:
    await seed_sessions(db, [300, 200])
    at = console()
    at.segmented_control(key=Keys.CUTOFF_MODE).set_value("By date").run()
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    at.date_input(key=Keys.CUTOFF_DATE).set_value(tomorrow).run()
    no_exceptions(at)
    assert at.date_input(key=Keys.CUTOFF_DATE).value == tomorrow
    assert any(f"{tomorrow.isoformat()} is in the future" in e.value for e in at.error)
    assert not at.metric and actions_disabled(at)
    at.session_state[Keys.PENDING] = None  # nothing can open a dialog meanwhile
    at.date_input(key=Keys.CUTOFF_DATE).set_value(days_ago(100).date()).run()
    assert not at.error
    assert [m.value for m in at.metric if m.label == "Candidates"] == ["2"]


async def test_a_negative_age_is_an_error_at_its_field(db: AsyncEngine,
                                                       console_env: Any) -> None:
    at = console()
    at.number_input(key=Keys.CUTOFF_DAYS).set_value(-1).run()
    no_exceptions(at)
    assert any("Older than (days): must be from 0 to" in e.value for e in at.error)
    assert actions_disabled(at)
    at.switch_page("views/database.py").run()
    no_exceptions(at)
    assert not at.code, "no plan for an invalid cutoff either"


# ------------------------------------------------------------------------------ History
async def test_history_groups_a_drains_batches(db: AsyncEngine, console_env: Any) -> None:
    await seed_sessions(db, [300, 290, 280, 270, 260])
    other = await prune(db, sweep(registry.get("sessions"), before=days_ago(90), limit=1),
                        operator="alice")
    done = await drain(db, sweep(registry.get("sessions"), before=days_ago(90), limit=2),
                       operator="bob", reason="backlog")
    assert done.count == 4 and done.batches == len(done.run_ids) >= 2
    at = console(page="views/history.py")
    no_exceptions(at)
    table = [d for d in at.dataframe if (d.key or "").startswith(Keys.HISTORY_TABLE + ".")][0]
    assert list(table.value["run"]) == [f"drain {done.drain_id[:8]}", f"#{other.run_id}"]
    assert list(table.value["batches"])[0] == done.batches
    assert list(table.value["rows"]) == [4, 1]

    at.session_state[table.key] = {"selection": {"rows": [0]}}
    at.run()
    no_exceptions(at)
    assert f"Drain {done.drain_id[:8]} of sessions: done" in [s.value for s in at.subheader]
    batches = [d for d in at.dataframe if (d.key or "").startswith(Keys.HISTORY_BATCHES)][0]
    assert sorted(batches.value["run"]) == sorted(done.run_ids)

    at.toggle(key=Keys.HISTORY_GROUP).set_value(False).run()
    table = [d for d in at.dataframe if (d.key or "").startswith(Keys.HISTORY_TABLE + ".")][0]
    assert len(table.value) == 1 + done.batches, "one line per run when not grouped"


async def test_history_restores_an_archived_run(db: AsyncEngine, console_env: Any) -> None:
    ids = await seed_sessions(db, [300, 250, 200])
    archived = await prune(db, sweep(registry.get("sessions"), before=days_ago(90), limit=2),
                           archive=True, operator="tester")
    plain = await prune(db, sweep(registry.get("sessions"), before=days_ago(90), limit=1),
                        operator="tester")
    at = console(page="views/history.py")
    table = [d for d in at.dataframe if (d.key or "").startswith(Keys.HISTORY_TABLE + ".")][0]
    at.session_state[table.key] = {"selection": {"rows": [0]}}  # the newest: not archived
    at.run()
    assert f"Run #{plain.run_id}" in at.subheader[0].value
    assert not [b for b in at.button if b.label.startswith("Restore")]
    at.session_state[table.key] = {"selection": {"rows": [1]}}
    at.run()
    button(at, f"Restore run #{archived.run_id}").click().run()
    assert dialog_open(at)
    assert f"Puts back run **#{archived.run_id}**" in texts(at)
    tables = frame(at, ["table", "rows"])
    assert dict(zip(tables["table"], tables["rows"], strict=True)) == archived.deleted
    assert await count(db, sessions) == 0, "opening the dialog changes nothing"
    confirm(at, reason="restore: wrong cutoff")
    no_exceptions(at)
    async with db.connect() as conn:
        back = set((await conn.execute(sa.select(sessions.c.id))).scalars())
    assert back == set(ids[:2])
    assert any(f"Run #{archived.run_id} is back" in s.value for s in at.success)
    (restore_run,) = await journal.history(db, kind="restore")
    assert (restore_run.restored_from, restore_run.reason) == (archived.run_id,
                                                               "restore: wrong cutoff")

    table = [d for d in at.dataframe if (d.key or "").startswith(Keys.HISTORY_TABLE + ".")][0]
    row = list(table.value["run"]).index(f"#{archived.run_id}")
    at.session_state[table.key] = {"selection": {"rows": [row]}}
    at.run()
    assert f"Restored by run #{restore_run.id}." in texts(at)
    assert not [b for b in at.button if b.label.startswith("Restore")], "once only"


async def test_restore_needs_the_right_to_prune(db: AsyncEngine, console_env: Any) -> None:
    console_env.delenv("PRUNER_DEMO")
    await seed_sessions(db, [300])
    archived = await prune(db, sweep(registry.get("sessions"), before=days_ago(90), limit=1),
                           archive=True, operator="tester")
    at = console(page="views/history.py")
    table = [d for d in at.dataframe if (d.key or "").startswith(Keys.HISTORY_TABLE + ".")][0]
    at.session_state[table.key] = {"selection": {"rows": [0]}}
    at.run()
    assert button(at, f"Restore run #{archived.run_id}").disabled
    from console.actions import PruneRequest

    at.session_state[Keys.PENDING] = PruneRequest("restore", "sessions", archived.cutoff, 1,
                                                  run_id=archived.run_id)
    at.run()
    assert any("pruning is disabled" in e.value for e in at.error), "refused, not only hidden"
    assert await count(db, sessions) == 0
