"""The Streamlit console driven through AppTest against the test database.

AppTest runs the script in this process; the console's own background loop owns its own engine
(console.runtime), separate from pytest-asyncio's loop and the `db` fixture's engine.
"""

from __future__ import annotations

import csv
import io
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from streamlit.testing.v1 import AppTest

from console.actions import DrainJob, PruneRequest
from console.settings import (
    CONFIRM_ABOVE_ENV,
    DATABASE_URL_ENV,
    DEMO_ENV,
    PASSWORD_ENV,
    READ_ONLY_ENV,
)
from console.state import Keys
from core import journal, registry, sweep
from core.operations import prune
from core.preview import preview
from core.reference_schema import audit_logs, sessions
from tests.factories import add_logs, add_session, count, days_ago

APP = Path(__file__).resolve().parents[2] / "console" / "app.py"
NO_SECRETS = {"console": {}}  # non-empty, so a developer's own secrets.toml is never read
CONSOLE_PASSWORD = "correct horse battery staple"
OIDC = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback",
                 "cookie_secret": "0f8c6d1e2b7a4f3e9d5c8b1a6e2f7d4c", "client_id": "c",
                 "client_secret": "5d2c8e1f-client-secret",
                 "server_metadata_url": "https://example.invalid/.well-known"},
        "console": {"oidc": {"prune_emails": ["bob@example.com"],
                             "read_domains": ["example.com"]}}}


def console(secrets: dict[str, Any] | None = None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets.update(secrets or NO_SECRETS)
    at.run()
    if page:
        at.switch_page(page).run()
    return at


async def seed_sessions(db: AsyncEngine, ages: list[float], **kw: Any) -> list[uuid.UUID]:
    return [await add_session(db, age_days=age, **kw) for age in ages]


# ------------------------------------------------------------------------------ helpers
def no_exceptions(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def button(at: AppTest, label_start: str) -> Any:
    found = [b for b in at.button if b.label.startswith(label_start)]
    assert found, f"no button {label_start!r} in {[b.label for b in at.button]}"
    return found[0]


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r} in {[m.label for m in at.metric]}"
    return found[0]


def texts(at: AppTest) -> str:
    """Every message, markdown and caption on the page, as one string."""
    parts = [e.value for kind in ("markdown", "caption", "error", "warning", "info", "success")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def frame(at: AppTest, columns: list[str]) -> Any:
    """The first table whose columns are exactly `columns` (plain tables have no key)."""
    for df in at.dataframe:
        value = df.value
        if list(value.columns) == columns:
            return value
    raise AssertionError(f"no table with columns {columns}")


def dialog_open(at: AppTest) -> bool:
    return any(t.key == Keys.REASON for t in at.text_input)


def candidates_table(at: AppTest) -> Any:
    found = [d for d in at.dataframe if (d.key or "").startswith(Keys.CANDIDATES_TABLE + ".")]
    assert found, "no candidates table"
    return found[0]


def select_rows(at: AppTest, rows: list[int]) -> None:
    at.session_state[candidates_table(at).key] = {"selection": {"rows": rows}}
    at.run()


def open_prune_dialog(at: AppTest, limit: int) -> None:
    at.number_input(key=Keys.LIMIT).set_value(limit).run()
    button(at, f"Prune {limit:,} oldest").click().run()
    assert dialog_open(at), texts(at)


def confirm(at: AppTest, reason: str = "test cleanup", typed: str | None = None) -> None:
    at.text_input(key=Keys.REASON).input(reason)
    if typed is not None:
        at.text_input(key=Keys.TYPED).input(typed)
    at.button(key="confirm.go").click().run()


async def session_ids(db: AsyncEngine) -> set[str]:
    async with db.connect() as conn:
        return {str(i) for i in (await conn.execute(sa.select(sessions.c.id))).scalars()}


def csv_ids(text: str) -> list[str]:
    return [row["id"] for row in csv.DictReader(io.StringIO(text))]


# ------------------------------------------------------------------------------ candidates
async def test_candidates_numbers_match_core_preview(db: AsyncEngine, console_env: Any) -> None:
    await seed_sessions(db, [100 + i for i in range(12)])
    await seed_sessions(db, [5, 10])  # too young
    await add_session(db, age_days=150, routed=True)  # blocked by a routing
    await add_session(db, status="ERROR", age_days=200)  # not terminal

    at = console()
    no_exceptions(at)
    cutoff = at.session_state[Keys.ANCHOR] - timedelta(days=90)
    pv = await preview(db, sweep(registry.get("sessions"), before=cutoff, limit=1000),
                       sample_size=200)

    assert metric(at, "Candidates") == f"{pv.candidates:,}" == "12"
    assert metric(at, "Blocked") == f"{pv.blocked:,}" == "1"
    assert metric(at, "A prune deletes") == f"{pv.would_delete:,}"
    assert metric(at, "Oldest") == "111 days"
    for table, n in pv.cascade.items():
        assert f"**{table}** {n:,}" in texts(at)
    shown = candidates_table(at).value
    assert list(shown["id"]) == [str(row["id"]) for row in pv.sample]  # oldest first
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1, "the age histogram is drawn"
    assert '"tooltip"' in charts[0].proto.spec
    assert button(at, "Prune 12 oldest").disabled is False
    assert button(at, "Prune 0 selected").disabled is True


async def test_date_cutoff_and_other_entities(db: AsyncEngine, console_env: Any) -> None:
    await seed_sessions(db, [40, 50, 60])
    at = console()
    at.segmented_control(key=Keys.CUTOFF_MODE).set_value("By date").run()
    at.date_input(key=Keys.CUTOFF_DATE).set_value(days_ago(45).date()).run()
    no_exceptions(at)
    assert metric(at, "Candidates") == "2"
    for entity in registry.names():
        at.selectbox(key=Keys.ENTITY).set_value(entity).run()
        no_exceptions(at)
        if registry.get(entity).model == "modelled":
            assert metric(at, "Candidates")
        else:  # a Backend.AI-only entity on the modelled demo schema: one line, no numbers
            assert any(f"unsupported schema for {entity}: " in e.value for e in at.error), entity


# ------------------------------------------------------------------------------ prune flow
async def test_prune_oldest_after_confirmation(db: AsyncEngine, console_env: Any) -> None:
    ids = await seed_sessions(db, [300, 250, 200, 150, 120, 100])
    at = console()
    open_prune_dialog(at, 4)
    assert "Deletes the **4 oldest**" in texts(at)
    assert not any(t.key == Keys.TYPED for t in at.text_input), "no typed name under the limit"
    assert await count(db, sessions) == 6, "opening the dialog deletes nothing"

    confirm(at, reason="OPS-1 cleanup")
    no_exceptions(at)
    assert not dialog_open(at)
    outcome = at.session_state[Keys.OUTCOME]
    assert [str(i) for i in outcome.result.ids] == [str(i) for i in ids[:4]]
    assert await session_ids(db) == {str(i) for i in ids[4:]}
    assert csv_ids(outcome.csv) == [str(i) for i in ids[:4]]
    assert any("Pruned 4 sessions" in s.value for s in at.success)
    assert metric(at, "Run id") == f"#{outcome.result.run_id}"
    assert at.download_button[0].label == "Download CSV"
    assert list(frame(at, ["id"])["id"]) == [str(i) for i in ids[:4]]
    # the page shows fresh numbers, not the cached preview from before the prune
    assert metric(at, "Candidates") == "2"
    run = await journal.get_run(db, outcome.result.run_id)
    assert (run.operator, run.reason, run.count) == ("demo@console", "OPS-1 cleanup", 4)


async def test_leaving_the_page_cancels_the_dialog(db: AsyncEngine, console_env: Any) -> None:
    await seed_sessions(db, [200, 150])
    at = console()
    open_prune_dialog(at, 2)
    at.switch_page("views/history.py").run()
    at.switch_page("views/candidates.py").run()
    no_exceptions(at)
    assert not dialog_open(at)
    assert await count(db, sessions) == 2


async def test_cancel_deletes_nothing(db: AsyncEngine, console_env: Any) -> None:
    await seed_sessions(db, [200, 150])
    at = console()
    open_prune_dialog(at, 2)
    at.text_input(key=Keys.REASON).input("changed my mind")
    at.button(key="confirm.cancel").click().run()
    no_exceptions(at)
    assert not dialog_open(at)
    at.run()
    assert not dialog_open(at), "a cancelled dialog stays closed"
    assert await count(db, sessions) == 2
    assert await journal.history(db) == []


async def test_a_reason_is_required(db: AsyncEngine, console_env: Any) -> None:
    await seed_sessions(db, [200, 150])
    at = console()
    open_prune_dialog(at, 2)
    confirm(at, reason="   ")
    assert dialog_open(at)
    assert any("Give a reason" in e.value for e in at.error)
    assert await count(db, sessions) == 2


async def test_typed_confirmation_above_threshold(db: AsyncEngine, console_env: Any) -> None:
    console_env.setenv(CONFIRM_ABOVE_ENV, "3")
    await seed_sessions(db, [200, 190, 180, 170, 160])
    at = console()
    open_prune_dialog(at, 5)
    assert any(t.key == Keys.TYPED for t in at.text_input), "typed name asked above 3 rows"

    confirm(at, typed="session")  # close is not enough
    assert dialog_open(at)
    assert any("Type the entity name 'sessions'" in e.value for e in at.error)
    assert await count(db, sessions) == 5

    confirm(at, typed="sessions")
    no_exceptions(at)
    assert not dialog_open(at)
    assert await count(db, sessions) == 0


async def test_prune_selected_clears_the_selection(db: AsyncEngine, console_env: Any) -> None:
    ids = await seed_sessions(db, [300, 250, 200, 150])
    at = console()
    select_rows(at, [0, 2])
    first_table = candidates_table(at).key
    button(at, "Prune 2 selected").click().run()
    assert dialog_open(at)
    assert "Deletes the **2 selected**" in texts(at)
    confirm(at)
    no_exceptions(at)

    assert await session_ids(db) == {str(ids[1]), str(ids[3])}
    assert csv_ids(at.session_state[Keys.OUTCOME].csv) == [str(ids[0]), str(ids[2])]
    assert candidates_table(at).key != first_table, "a new table: the old selection is gone"
    assert button(at, "Prune 0 selected").disabled is True
    kinds = [r.kind for r in await journal.history(db)]
    assert kinds == ["selected"]  # the dialog's counts came from a lock-free preview


async def test_prune_selected_audit_logs(db: AsyncEngine, console_env: Any) -> None:
    await add_logs(db, [400, 300, 200, 100, 1])
    at = console()
    at.selectbox(key=Keys.ENTITY).set_value("audit_logs").run()
    shown = candidates_table(at).value
    select_rows(at, [1, 3])
    button(at, "Prune 2 selected").click().run()
    confirm(at)
    no_exceptions(at)
    async with db.connect() as conn:
        left = set((await conn.execute(sa.select(audit_logs.c.id))).scalars())
    gone = {int(shown["id"][1]), int(shown["id"][3])}
    assert len(left) == 3 and not (left & gone)
    assert {int(i) for i in csv_ids(at.session_state[Keys.OUTCOME].csv)} == gone


async def test_selection_dropped_when_rows_change(db: AsyncEngine, console_env: Any) -> None:
    await seed_sessions(db, [300, 250, 200])
    at = console()
    select_rows(at, [1])
    assert button(at, "Prune 1 selected").disabled is False
    await prune(db, sweep(registry.get("sessions"), before=days_ago(90), limit=1), operator="other")
    button(at, "Refresh").click().run()  # another operator pruned meanwhile
    assert button(at, "Prune 0 selected").disabled is True, "positions would point elsewhere"


async def test_rehearse_changes_nothing(db: AsyncEngine, console_env: Any) -> None:
    await seed_sessions(db, [300, 250])
    at = console()
    button(at, "Rehearse").click().run()
    no_exceptions(at)
    assert any("Rehearsal (rolled back, nothing deleted" in i.value for i in at.info)
    assert await count(db, sessions) == 2
    assert [r.status for r in await journal.history(db)] == ["rehearsed"]


async def test_a_confirmed_prune_runs_once(db: AsyncEngine, console_env: Any) -> None:
    await seed_sessions(db, [300, 250, 200])
    at = console()
    open_prune_dialog(at, 1)
    confirm(at)
    at.run()  # stray reruns must not prune again
    at.run()
    assert await count(db, sessions) == 2
    assert len(await journal.history(db, status="succeeded")) == 1


# ------------------------------------------------------------------------------ safety
def force_pending(at: AppTest, limit: int = 2) -> None:
    """Open the dialog as if a (hidden or disabled) button had been clicked."""
    at.session_state[Keys.PENDING] = PruneRequest(
        "oldest", "sessions", at.session_state[Keys.ANCHOR] - timedelta(days=90), limit)
    at.run()


@pytest.mark.parametrize("how", ["env", "secret"])
async def test_read_only_mode(db: AsyncEngine, console_env: Any, how: str) -> None:
    await seed_sessions(db, [300, 250])
    secrets = NO_SECRETS
    if how == "env":
        console_env.setenv(READ_ONLY_ENV, "1")
    else:
        secrets = {"console": {"read_only": True}}
    at = console(secrets)
    no_exceptions(at)
    assert any("Read-only mode" in w.value for w in at.warning)
    assert metric(at, "Candidates") == "2", "preview still works"
    for label in ("Rehearse", "Prune 2 oldest", "Prune 0 selected"):
        assert button(at, label).disabled is True

    force_pending(at)
    assert any("Read-only mode" in e.value for e in at.error), "enforced, not only hidden"
    at.session_state[Keys.REHEARSE] = True  # as if the disabled Rehearse button were clicked
    at.run()
    assert await count(db, sessions) == 2
    assert await journal.history(db) == [], "not even a rehearsal"
    at.switch_page("views/history.py").run()
    no_exceptions(at)


async def test_no_password_outside_demo_means_no_pruning(db: AsyncEngine,
                                                         console_env: Any) -> None:
    console_env.delenv(DEMO_ENV)
    await seed_sessions(db, [300, 250])
    at = console()
    no_exceptions(at)
    assert any("No sign-in is configured" in w.value for w in at.warning)
    assert button(at, "Prune 2 oldest").disabled is True
    force_pending(at)
    assert any("pruning is disabled" in e.value for e in at.error)
    assert await count(db, sessions) == 2
    assert await journal.history(db) == []

    at.switch_page("views/drain.py").run()
    assert button(at, "Start drain").disabled is True


async def test_password_gate(db: AsyncEngine, console_env: Any) -> None:
    console_env.delenv(DEMO_ENV)
    await seed_sessions(db, [300, 250])
    at = console({"console": {"password": CONSOLE_PASSWORD}})
    assert not at.metric, "nothing but the sign-in form before signing in"
    at.text_input(key=Keys.SIGN_IN_NAME).input("alice")
    at.text_input(key=Keys.SIGN_IN_PASSWORD).input("wrong password")
    at.button(key="sign_in.submit").click().run()
    no_exceptions(at)
    assert [e.value for e in at.error] == ["Wrong password."]
    assert not at.metric

    at.text_input(key=Keys.SIGN_IN_NAME).input("alice")
    at.text_input(key=Keys.SIGN_IN_PASSWORD).input(CONSOLE_PASSWORD)
    at.button(key="sign_in.submit").click().run()
    no_exceptions(at)
    assert metric(at, "Candidates") == "2"
    open_prune_dialog(at, 1)
    confirm(at)
    assert [r.operator for r in await journal.history(db)] == ["shared-password:alice"]

    at.secrets["console"] = {"password": "rotated to another password"}
    at.run()
    assert at.text_input(key=Keys.SIGN_IN_PASSWORD) is not None, "a new password signs out"
    assert not at.metric


async def test_password_from_env(db: AsyncEngine, console_env: Any) -> None:
    console_env.delenv(DEMO_ENV)
    console_env.setenv(PASSWORD_ENV, CONSOLE_PASSWORD)
    at = console()
    assert at.text_input(key=Keys.SIGN_IN_PASSWORD) is not None
    assert not at.metric


async def test_oidc_sign_in(db: AsyncEngine, console_env: Any) -> None:
    console_env.delenv(DEMO_ENV)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets.update(OIDC)
    at.user = {"is_logged_in": False}
    at.run()
    assert [b.label for b in at.button] == ["Log in"]
    assert not at.metric

    await seed_sessions(db, [300])
    at.user = {"is_logged_in": True, "email": "bob@example.com", "email_verified": True}
    at.run()
    no_exceptions(at)
    assert "bob@example.com" in texts(at)
    assert button(at, "Prune 1 oldest").disabled is False, "a signed-in operator may prune"


def rendered(at: AppTest) -> str:
    return "\n".join(str(getattr(node, "proto", "")) for node in at._tree)


async def test_passwords_never_rendered(db: AsyncEngine, console_env: Any,
                                        database_url: str) -> None:
    console_env.delenv(DEMO_ENV)
    db_password = make_url(database_url).password
    assert db_password
    await seed_sessions(db, [300, 250])
    at = console({"console": {"password": CONSOLE_PASSWORD}})
    at.text_input(key=Keys.SIGN_IN_NAME).input("carol")
    at.text_input(key=Keys.SIGN_IN_PASSWORD).input(CONSOLE_PASSWORD)
    at.button(key="sign_in.submit").click().run()
    seen = [rendered(at)]
    open_prune_dialog(at, 2)
    seen.append(rendered(at))
    confirm(at)
    seen.append(rendered(at))
    for page in ("views/drain.py", "views/history.py", "views/database.py"):
        at.switch_page(page).run()
        no_exceptions(at)
        seen.append(rendered(at))
    everything = "\n".join(seen)
    assert "pruner:***@" in everything, "the host is shown, redacted"
    assert db_password not in everything
    assert CONSOLE_PASSWORD not in everything


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("url, expected", [
    ("postgresql://pruner:s3cr3t-pw@127.0.0.1:1/nowhere", "database unreachable"),
    ("not a url", "not a valid URL"),
    ("mysql://u:s3cr3t-pw@localhost/db", "must point at PostgreSQL"),
])
def test_database_errors_are_messages(console_env: Any, url: str, expected: str) -> None:
    console_env.setenv(DATABASE_URL_ENV, url)
    at = console()
    no_exceptions(at)
    errors = [e.value for e in at.error]
    assert any(expected in e for e in errors), errors
    assert "s3cr3t-pw" not in rendered(at)


def test_no_database_configured(console_env: Any) -> None:
    console_env.delenv(DATABASE_URL_ENV)
    at = console()
    no_exceptions(at)
    assert any("No database is configured" in e.value for e in at.error)


def test_broken_user_pruner_module_is_a_message(console_env: Any) -> None:
    console_env.setenv("PRUNER_MODULES", "no_such_pruner_module")
    at = console()
    no_exceptions(at)
    assert any("no_such_pruner_module" in e.value for e in at.error)


def test_bad_confirm_threshold_is_a_message(console_env: Any) -> None:
    console_env.setenv(CONFIRM_ABOVE_ENV, "lots")
    at = console()
    no_exceptions(at)
    assert any(CONFIRM_ABOVE_ENV in e.value for e in at.error)


async def test_prune_failure_is_a_message(db: AsyncEngine, console_env: Any) -> None:
    await seed_sessions(db, [300, 250])
    at = console()
    open_prune_dialog(at, 2)
    async with db.begin() as conn:  # the journal is gone: the prune cannot record itself
        await conn.execute(sa.text("ALTER TABLE pruner.prune_runs RENAME TO prune_runs_away"))
    try:
        confirm(at)
        no_exceptions(at)
        assert at.error, "the failure is shown"
        assert any(s.state == "error" for s in at.status)
    finally:
        async with db.begin() as conn:
            await conn.execute(sa.text("ALTER TABLE pruner.prune_runs_away RENAME TO prune_runs"))
    assert await count(db, sessions) == 2, "rolled back"


# ------------------------------------------------------------------------------ drain
def start_drain(at: AppTest, batch: int, *, pause: float = 0.0, typed: str | None = None) -> None:
    at.number_input(key=Keys.DRAIN_BATCH).set_value(batch).run()
    if pause:
        at.number_input(key=Keys.DRAIN_PAUSE).set_value(pause).run()
    button(at, "Start drain").click().run()
    assert dialog_open(at), texts(at)
    confirm(at, reason="backlog", typed=typed)
    no_exceptions(at)


def wait_for(at: AppTest, done: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the drain did not finish"
        time.sleep(0.1)
    at.run()


async def test_drain_to_the_end(db: AsyncEngine, console_env: Any) -> None:
    ids = await seed_sessions(db, [100 + i for i in range(25)])
    young = await seed_sessions(db, [3])
    at = console(page="views/drain.py")
    assert metric(at, "Candidates now") == "25"
    start_drain(at, 10)
    job = at.session_state[Keys.DRAIN_JOB]
    assert isinstance(job, DrainJob)
    wait_for(at, lambda: job.done)
    no_exceptions(at)
    assert any("finished: no candidates left" in s.value for s in at.success)
    assert metric(at, "Batches") == "3"
    assert await session_ids(db) == {str(young[0])}
    assert sorted(csv_ids(job.csv(job_ctx(at)))) == sorted(str(i) for i in ids)
    button(at, "New drain").click().run()
    assert metric(at, "Candidates now") == "0", "no stale preview after the drain"


def job_ctx(at: AppTest) -> Any:
    return at.session_state[Keys.CONTEXT]


async def test_drain_stop(db: AsyncEngine, console_env: Any) -> None:
    await seed_sessions(db, [100 + i for i in range(30)])
    at = console(page="views/drain.py")
    start_drain(at, 2, pause=1.0)  # 15 slow batches: Stop lands long before the end
    job = at.session_state[Keys.DRAIN_JOB]
    wait_for(at, lambda: job.progress is not None)
    assert at.get("progress"), "a progress bar while it runs"
    button(at, "Stop").click().run()
    wait_for(at, lambda: job.done)
    no_exceptions(at)
    result = job.result()
    assert result.stopped == "stopped"
    assert 0 < result.count < 30
    assert await count(db, sessions) == 30 - result.count
    assert any("stopped on request" in w.value for w in at.warning)


async def test_drain_asks_for_the_name_above_threshold(db: AsyncEngine, console_env: Any) -> None:
    console_env.setenv(CONFIRM_ABOVE_ENV, "5")
    await seed_sessions(db, [100 + i for i in range(8)])
    at = console(page="views/drain.py")
    at.number_input(key=Keys.DRAIN_BATCH).set_value(4).run()
    button(at, "Start drain").click().run()
    confirm(at, reason="backlog", typed="nope")
    assert dialog_open(at)
    assert Keys.DRAIN_JOB not in at.session_state
    confirm(at, reason="backlog", typed="sessions")
    job = at.session_state[Keys.DRAIN_JOB]
    wait_for(at, lambda: job.done)
    assert await count(db, sessions) == 0


# ------------------------------------------------------------------------------ history
async def test_history_lists_and_exports_runs(db: AsyncEngine, console_env: Any) -> None:
    ids = await seed_sessions(db, [300, 250, 200])
    pruner = registry.get("sessions")
    archived = await prune(db, sweep(pruner, before=days_ago(90), limit=2),
                           archive=True, operator="tester", reason="archive test")
    at = console(page="views/history.py")
    no_exceptions(at)
    table = [d for d in at.dataframe if (d.key or "").startswith(Keys.HISTORY_TABLE + ".")][0]
    assert list(table.value["run"]) == [f"#{archived.run_id}"]

    at.session_state[table.key] = {"selection": {"rows": [0]}}
    at.run()
    no_exceptions(at)
    assert list(frame(at, ["id"])["id"]) == [str(i) for i in ids[:2]]
    archived = frame(at, ["table", "kind", "row"])  # every deleted row of every table
    assert list(archived["table"]).count("sessions") == 2
    assert list(archived["table"]).count("kernels") == 4
    assert [b.label for b in at.download_button] == ["Download ids CSV", "Download archive CSV"]

    at.selectbox(key=Keys.HISTORY_STATUS).set_value("failed").run()
    assert any("No runs match" in i.value for i in at.info)
    at.selectbox(key=Keys.HISTORY_STATUS).set_value("(all)").run()
    at.text_input(key=Keys.HISTORY_OPERATOR).input("nobody").run()
    assert any("No runs match" in i.value for i in at.info)
    at.text_input(key=Keys.HISTORY_OPERATOR).input("tester").run()
    assert not at.info


async def test_history_empty_journal(db: AsyncEngine, console_env: Any) -> None:
    at = console(page="views/history.py")
    no_exceptions(at)
    assert any("The journal is empty" in i.value for i in at.info)


# ------------------------------------------------------------------------------ database
async def test_database_page(db: AsyncEngine, console_env: Any) -> None:
    await seed_sessions(db, [300])
    at = console(page="views/database.py")
    no_exceptions(at)
    assert "PostgreSQL **" in texts(at)
    stats = at.dataframe[0].value
    assert {"sessions", "kernels", "pruner.prune_runs"} <= set(stats["table"])
    assert any("VACUUM FULL" in i.value for i in at.info)
    assert at.code, "the candidate plan is shown"
    for entity in registry.names():
        at.selectbox(key=Keys.ENTITY).set_value(entity).run()
        no_exceptions(at)


async def test_database_page_warns_about_unindexed_fks(db: AsyncEngine, console_env: Any,
                                                      ) -> None:
    async with db.begin() as conn:
        await conn.execute(sa.text(
            "CREATE TABLE console_fk_probe (id int PRIMARY KEY, "
            "session_id uuid REFERENCES sessions(id))"))
    try:
        at = console(page="views/database.py")
        no_exceptions(at)
        assert any("console_fk_probe(session_id)" in w.value for w in at.warning)
        assert any("CREATE INDEX CONCURRENTLY ON console_fk_probe" in c.value for c in at.code)
    finally:
        async with db.begin() as conn:
            await conn.execute(sa.text("DROP TABLE console_fk_probe"))
