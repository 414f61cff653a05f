"""Fixtures of the console tier (AppTest against the test database)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console import access, previews, runtime
from console import settings as console_settings
from console.settings import (
    CONFIRM_ABOVE_ENV,
    DATABASE_URL_ENV,
    DEMO_ENV,
    PASSWORD_ENV,
    READ_ONLY_ENV,
    USERS_FILE_ENV,
)
from console.throttle import Throttle


@pytest.fixture(scope="session")
def console_runtimes(database_url: str) -> Iterator[None]:
    """Close the console's loop threads and engines before the cluster goes away."""
    yield
    runtime.close_all()


@pytest.fixture
def console_env(monkeypatch: pytest.MonkeyPatch, database_url: str, console_runtimes: None,
                tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv(DATABASE_URL_ENV, database_url)
    monkeypatch.setenv(DEMO_ENV, "1")
    for var in (READ_ONLY_ENV, PASSWORD_ENV, CONFIRM_ABOVE_ENV, USERS_FILE_ENV,
                "PRUNER_MAX_LIMIT"):
        monkeypatch.delenv(var, raising=False)
    # never a developer's own users file; sign-in failures of one test never throttle another
    monkeypatch.setattr(console_settings, "DEFAULT_USERS_FILE", tmp_path / "no-users.toml")
    monkeypatch.setattr(access, "THROTTLE", Throttle())
    previews.clear()  # the preview cache is process-wide: no test may see another's numbers
    yield monkeypatch
    previews.clear()
