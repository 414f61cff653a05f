"""The console in real Chromium: candidates, chart, confirmed prune, ids, CSV download."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import CONFIRM_ABOVE, Database

pytestmark = pytest.mark.browser

LIMIT = 150  # above CONFIRM_ABOVE: the dialog asks for the entity name


def session_ids(db: Database) -> set[str]:
    return set(db.query("SELECT id FROM sessions"))


def test_prune_with_confirmation_and_download(page: Any, shoot: Any, console_url: str,
                                              e2e_database: Database) -> None:
    assert LIMIT > CONFIRM_ABOVE
    page.goto(console_url)
    page.get_by_role("heading", name="Prune candidates").wait_for()
    candidates = page.get_by_test_id("stMetric").filter(has_text="Candidates")
    candidates.wait_for()
    shoot("candidates")

    chart = page.get_by_test_id("stVegaLiteChart").locator("canvas, svg").first
    chart.wait_for()  # Vega rendered the age histogram
    chart.scroll_into_view_if_needed()
    shoot("chart")

    limit = page.get_by_role("spinbutton", name="Limit (rows per prune)")
    limit.fill(str(LIMIT))
    limit.press("Enter")
    prune_button = page.get_by_role("button", name=f"Prune {LIMIT} oldest")
    prune_button.wait_for()

    before = session_ids(e2e_database)
    prune_button.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text(f"{LIMIT} oldest").wait_for()
    assert "sessions" in dialog.inner_text()
    shoot("dialog")

    confirm = dialog.get_by_role("button", name=f"Delete {LIMIT} sessions")
    dialog.get_by_label("Reason (recorded in the journal)").fill("e2e: browser test")
    dialog.get_by_label(re.compile("to confirm")).fill("sessions")
    shoot("dialog-filled")
    assert session_ids(e2e_database) == before, "nothing is deleted before confirming"
    confirm.click()

    page.get_by_test_id("stAlertContentSuccess").filter(
        has_text=f"Pruned {LIMIT} sessions").wait_for()
    dialog.wait_for(state="detached")
    shoot("pruned")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    path = Path(download.value.path())
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert rows and set(rows[0]) == {"run_id", "entity", "id", "pruned_at"}
    ids = {row["id"] for row in rows}
    assert len(ids) == len(rows) == LIMIT

    after = session_ids(e2e_database)
    assert before - after == ids, "the ids in the CSV are exactly the rows gone"
    assert after < before
    run_id = rows[0]["run_id"]
    journaled = e2e_database.query("SELECT run_id || ',' || unnest(ids) FROM pruner.prune_run_ids")
    assert {line.split(",", 1)[1] for line in journaled if line.startswith(f"{run_id},")} == ids

    # Shown on the page too: the run id, and the ids table next to the per-table counts.
    assert page.get_by_test_id("stMetric").filter(has_text=f"#{run_id}").count() == 1
    shoot("downloaded")

    page.get_by_role("link", name="History").click()
    page.get_by_role("heading", name="History").wait_for()
    page.get_by_test_id("stDataFrame").first.wait_for()
    shoot("history")
