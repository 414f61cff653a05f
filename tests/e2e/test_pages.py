"""Issue 12 in real Chromium: the chart's cutoff rule and classes (read from the SVG the browser
drew), a prune of selected rows, a drain started in one tab and stopped from a second one after
the first closed, a restore from History, and every page at 1024 and 1440 px wide with nothing
cut off."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.harness import CONFIRM_ABOVE, ROOT, SCREENSHOTS, Database

pytestmark = pytest.mark.browser

PAGES = [("", "Prune candidates", "candidates"), ("drain", "Drain a backlog", "drain"),
         ("history", "History", "history"), ("database", "Database", "database")]
ROW, HEADER = 35, 35  # the data grid's row and header heights (px)


def open_page(browser: Browser, width: int, height: int = 1100) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height},
                                  accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    return page


def goto(page: Page, url: str, path: str, heading: str) -> None:
    page.goto(f"{url}/{path}")
    page.get_by_role("heading", name=heading).first.wait_for()


def settle(page: Page) -> None:
    """Wait until Streamlit finished the current run (its status widget says nothing)."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=stStatusWidget]')")


def cli(db: Database, *args: str) -> dict[str, Any]:
    env = {**os.environ, "PRUNER_DATABASE_URL": db.url, "PRUNER_OPERATOR": "e2e"}
    done = subprocess.run([sys.executable, "-m", "core", *args, "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def oldest_candidates(db: Database, n: int) -> list[str]:
    """The `n` oldest session candidates (older than 90 days), as core's preview lists them."""
    from core import create_engine, registry, sweep
    from core.preview import preview

    async def read() -> list[str]:
        engine = create_engine(db.url)
        try:
            pv = await preview(engine, sweep(registry.get("sessions"), before=datetime.now(UTC)
                                             - timedelta(days=90), limit=n), sample_size=n)
            return [str(row["id"]) for row in pv.sample]
        finally:
            await engine.dispose()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # Playwright owns this thread's loop
        return pool.submit(asyncio.run, read()).result()


def chart_labels(page: Page) -> list[str]:
    chart = page.get_by_test_id("stVegaLiteChart").first
    chart.locator("svg [aria-label]").first.wait_for()
    return chart.locator("svg [aria-label]").evaluate_all(
        "els => els.map(e => e.getAttribute('aria-label'))")


# ------------------------------------------------------------------------------ the chart
def test_the_chart_shows_classes_and_the_cutoff(browser: Browser, console_url: str,
                                                e2e_database: Database) -> None:
    page = open_page(browser, 1440)
    goto(page, console_url, "", "Prune candidates")
    limit = page.get_by_role("spinbutton", name="Limit (rows per prune)")
    limit.fill("100")
    limit.press("Enter")
    page.get_by_role("button", name="Prune 100 oldest").wait_for()
    settle(page)
    labels = chart_labels(page)
    rows: dict[str, int] = {}
    for label in labels:
        if m := re.fullmatch(r"(.+): ([\d,]+) rows from .+ UTC to .+ UTC", label):
            rows[m[1]] = rows.get(m[1], 0) + int(m[2].replace(",", ""))
    assert rows["next prune"] == 100, rows
    assert rows["later"] > 0 and rows["not old enough"] > 0
    assert any(name.startswith("blocked: ") for name in rows), "blocked rows, by reason"
    terminal = int(e2e_database.query(
        "SELECT count(*) FROM sessions WHERE status IN ('TERMINATED', 'CANCELLED') "
        "AND terminated_at IS NOT NULL AND isfinite(terminated_at)")[0])
    assert sum(rows.values()) == terminal, "every terminal row drawn exactly once"
    (cutoff,) = [x for x in labels if x.startswith("cutoff ")]  # the rule
    drawn = datetime.strptime(cutoff, "cutoff %Y-%m-%d %H:%M UTC").replace(tzinfo=UTC)
    assert abs(drawn - (datetime.now(UTC) - timedelta(days=90))) < timedelta(hours=1)
    axis = next(x for x in labels if x.startswith("X-axis"))
    oldest = e2e_database.query(
        "SELECT to_char(min(terminated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM sessions "
        "WHERE status IN ('TERMINATED', 'CANCELLED') AND isfinite(terminated_at)")[0]
    today = e2e_database.query("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')")[0]
    start, end = re.search(r"values from (\S+) to (\S+)", axis).groups()  # type: ignore[union-attr]
    assert start <= oldest and end == today, (axis, oldest, today)
    page.context.close()


# ------------------------------------------------------------------------------ selected rows
def test_prune_selected_rows(browser: Browser, console_url: str,
                             e2e_database: Database) -> None:
    page = open_page(browser, 1440)
    goto(page, console_url, "", "Prune candidates")
    grid = page.get_by_test_id("stDataFrame").first
    grid.scroll_into_view_if_needed()
    settle(page)
    box = grid.bounding_box()
    assert box
    before = set(e2e_database.query("SELECT id FROM sessions"))
    oldest = oldest_candidates(e2e_database, 3)
    for row in (0, 2):  # the row markers' checkboxes, in the first column
        page.mouse.click(box["x"] + 18, box["y"] + HEADER + ROW * row + ROW / 2)
        settle(page)
    prune = page.get_by_role("button", name="Prune 2 selected")
    prune.wait_for()
    prune.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Deletes the 2 selected rows").wait_for()
    assert "Time range" in dialog.inner_text()
    dialog.get_by_label("Reason (recorded in the journal)").fill("e2e: selected rows")
    dialog.get_by_role("button", name="Delete 2 sessions").click()
    page.get_by_test_id("stAlertContentSuccess").filter(has_text="Pruned 2 sessions").wait_for()
    gone = before - set(e2e_database.query("SELECT id FROM sessions"))
    assert len(gone) == 2
    (run,) = e2e_database.query("SELECT id || ' ' || kind || ' ' || count FROM "
                                "pruner.prune_runs WHERE reason = 'e2e: selected rows'")
    run_id, kind, count = run.split()
    assert (kind, count) == ("selected", "2")
    journaled = set(e2e_database.query(
        f"SELECT unnest(ids) FROM pruner.prune_run_ids WHERE run_id = {int(run_id)}"))  # noqa: S608
    assert journaled == gone, "exactly the rows picked, journaled"
    assert gone == {oldest[0], oldest[2]}, "the first and third oldest candidates"
    page.context.close()


# ------------------------------------------------------------------------------ drain
def test_a_drain_is_stopped_from_a_second_tab(browser: Browser, console_url: str,
                                              e2e_database: Database) -> None:
    first = open_page(browser, 1440)
    goto(first, console_url, "drain", "Drain a backlog")
    entity = first.get_by_test_id("stSelectbox").filter(has_text="Entity")
    entity.click()
    first.get_by_role("option", name="audit_logs").click()
    for name, value in (("Batch size", "5"), ("Max batches (0 = until done)", "100"),
                        ("Pause (s)", "1")):
        box = first.get_by_role("spinbutton", name=name)
        box.fill(value)
        box.press("Enter")
    # the page restates the inputs once it has them all: only then is Start bound to them
    first.get_by_text(re.compile(r"batches of 5 \(at most 100\), 1 s apart")).wait_for()
    first.get_by_role("button", name="Start drain…").click()
    dialog = first.get_by_role("dialog")
    dialog.get_by_text("Drains about").wait_for()
    assert "Time range" in dialog.inner_text()
    assert "at most 100 batches, 1 s between batches" in dialog.inner_text()
    dialog.get_by_label("Reason (recorded in the journal)").fill("e2e: drain to stop")
    if CONFIRM_ABOVE < 500:
        dialog.get_by_label(re.compile("to confirm")).fill("audit_logs")
    dialog.get_by_role("button", name="Start drain").click()
    first.get_by_text(re.compile(r"Running now \(1\)")).wait_for()
    first.context.close()  # the tab that started it is gone; the drain is not

    second = open_page(browser, 1440)
    goto(second, console_url, "drain", "Drain a backlog")
    second.get_by_text(re.compile(r"Running now \(1\)")).wait_for()
    assert second.get_by_test_id("stSidebar").get_by_text(re.compile("1 drain running")).count()
    second.get_by_text(re.compile(r"of about [\d,]+ audit_logs deleted")).wait_for()
    second.get_by_role("spinbutton", name="Batch size").wait_for()  # the page is all drawn
    settle(second)
    shoot(second, "drain-running-second-tab")
    second.get_by_role("button", name="Stop").click()
    second.get_by_text("No drain is running.").wait_for()
    (status,) = e2e_database.query(
        "SELECT status || ' ' || stop_requested || ' ' || count FROM pruner.prune_drains "
        "WHERE reason = 'e2e: drain to stop'")
    state, stop_requested, count = status.split()
    assert (state, stop_requested) == ("stopped", "true")
    assert 0 < int(count) < 500, "stopped long before its 100 batches"
    second.context.close()


# ------------------------------------------------------------------------------ restore
def test_history_restores_an_archived_run(browser: Browser, console_url: str,
                                          e2e_database: Database) -> None:
    done = cli(e2e_database, "prune", "sessions", "--older-than", "90d", "--limit", "3",
               "--archive", "--yes", "--reason", "e2e: to restore")
    ids = set(done["ids"])
    present = set(e2e_database.query("SELECT id FROM sessions"))
    assert not ids & present
    page = open_page(browser, 1440)
    goto(page, console_url, "history", "History")
    grid = page.get_by_test_id("stDataFrame").first
    grid.wait_for()
    settle(page)
    box = grid.bounding_box()
    assert box
    page.mouse.click(box["x"] + 18, box["y"] + HEADER + ROW / 2)  # the newest run: ours
    page.get_by_role("heading", name=f"Run #{done['run_id']}").wait_for()
    page.get_by_role("button", name=f"Restore run #{done['run_id']}…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text(f"Puts back run #{done['run_id']}").wait_for()
    dialog.get_by_label("Reason (recorded in the journal)").fill("e2e: restore")
    shoot(page, "history-restore-dialog")
    dialog.get_by_role("button", name=f"Restore run #{done['run_id']}").click()
    page.get_by_text(f"Run #{done['run_id']} is back").wait_for()
    assert ids <= set(e2e_database.query("SELECT id FROM sessions"))
    (restored_from,) = e2e_database.query(
        "SELECT restored_from FROM pruner.prune_runs WHERE kind = 'restore' "
        "AND reason = 'e2e: restore'")
    assert int(restored_from) == done["run_id"]
    page.context.close()


# ------------------------------------------------------------------------------ layout
def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def overflowing(page: Page, selector: str) -> list[str]:
    """Texts of the elements matching `selector` whose content is cut off."""
    return page.locator(selector).evaluate_all(
        "els => els.filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)")


@pytest.fixture(params=[1024, 1440], ids=lambda w: f"{w}px")
def width(request: pytest.FixtureRequest) -> Iterator[int]:
    yield request.param


def test_every_page_at_1024_and_1440(browser: Browser, console_url: str, width: int) -> None:
    page = open_page(browser, width, height=1400)
    for path, heading, name in PAGES:
        goto(page, console_url, path, heading)
        settle(page)
        if name == "candidates":
            page.get_by_test_id("stVegaLiteChart").first.locator("svg").wait_for()
            by_date = page.get_by_role("radio", name="By date")
            by_date.wait_for()
            column = page.locator("[data-testid=stColumn]").filter(has=by_date).last
            box, room = by_date.bounding_box(), column.bounding_box()
            assert box and room
            assert box["x"] + box["width"] <= room["x"] + room["width"] + 1, "By date is cut"
            assert not overflowing(page, "[data-testid=stButtonGroup] p"), "a choice is cut"
            refresh = page.get_by_role("button", name="Refresh")
            assert not overflowing(page, "button .stMarkdownEllipsis"), "a button label is cut"
            assert refresh.is_visible()
        assert not overflowing(page, "[data-testid=stMetricValue] .stMarkdownEllipsis"), \
            "a metric is cut short"
        page.wait_for_timeout(500)  # let the last paint land before the picture
        shoot(page, f"page-{name}-{width}")
    page.context.close()
