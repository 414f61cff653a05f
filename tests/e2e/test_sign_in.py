"""Operator-account sign-in in real Chromium: a wrong password, then the right one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import ACCOUNT, ACCOUNT_PASSWORD

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
