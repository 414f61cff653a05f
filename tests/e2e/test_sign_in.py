"""Operator-account sign-in in real Chromium: a wrong password, then the right one; and the
throttle: after repeated failures even the right password is refused, unchecked."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import ACCOUNT, ACCOUNT_PASSWORD, SCREENSHOTS

pytestmark = pytest.mark.browser


def test_account_sign_in(page: Any, shoot: Any, accounts_console: tuple[str, Path]) -> None:
    url, server_log = accounts_console
    page.goto(url)
    page.get_by_role("heading", name="Pruner console").wait_for()
    assert page.get_by_test_id("stMetric").count() == 0, "nothing before signing in"

    def sign_in(password: str) -> None:
        page.get_by_label("Account").fill(ACCOUNT)
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("button", name="Sign in").click()

    sign_in("not the password")
    page.get_by_text("Wrong account name or password.").wait_for()
    assert page.get_by_label("Password", exact=True).input_value() == "", "cleared on submit"
    shoot("sign-in-refused")

    sign_in(ACCOUNT_PASSWORD)
    page.get_by_role("heading", name="Prune candidates").wait_for()
    page.get_by_test_id("stSidebar").get_by_text(f"account:{ACCOUNT}").wait_for()
    page.get_by_test_id("stMetric").filter(has_text="Candidates").wait_for()
    shoot("signed-in")

    logged = server_log.read_text()
    assert f"sign-in failed: wrong password for {ACCOUNT}" in logged
    assert f"console sign-in: account:{ACCOUNT} (accounts)" in logged
    assert "not the password" not in logged and ACCOUNT_PASSWORD not in logged


def test_repeated_failures_are_throttled(page: Any, throttled_console: tuple[str, Path]) -> None:
    url, server_log = throttled_console
    page.goto(url)
    page.get_by_role("heading", name="Pruner console").wait_for()

    def sign_in(password: str) -> None:
        page.get_by_label("Account").fill(ACCOUNT)
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("button", name="Sign in").click()

    throttled = page.get_by_text(re.compile("Too many failed sign-ins: wait"))
    failures = 0
    while not throttled.count():
        assert failures < 9, "no throttle after 9 failures"  # 10 would lock the account out
        failures += 1
        sign_in(f"wrong password {failures}")
        # the server logs each checked failure; the next attempt waits for that line
        wait_until(lambda n=failures: f"failure {n}\n" in server_log.read_text()
                   or throttled.count() > 0)
    assert failures > 3, "the first three failures are free"

    sign_in(ACCOUNT_PASSWORD)  # the right password, while the account must wait
    wait_until(lambda: "refused without checking" in server_log.read_text())
    throttled.wait_for()
    assert page.get_by_test_id("stMetric").count() == 0, "not signed in"
    page.screenshot(path=str(SCREENSHOTS / "sign-in-throttled.png"))
    logged = server_log.read_text()
    assert ACCOUNT_PASSWORD not in logged and "wrong password 1" not in logged


def wait_until(done: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "nothing happened"
        time.sleep(0.1)
