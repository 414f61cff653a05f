"""Issue 9, items 7 and 5 without the real schema: a demo whose real Backend.AI schema cannot be
built falls back to the modelled one and says why on every page; a database with the platform's
`retention_policies` shows them beside the pruners that cover each category."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from console import launcher
from console.settings import DATABASE_URL_ENV, DEMO_ENV, DEMO_FALLBACK_ENV
from core.demo.backendai import PY313_ENV
from core.demo.cluster import LocalCluster
from core.demo.seed import DEMO_DIR_ENV
from tests.console.test_apptest import console, frame, no_exceptions, texts

BANNER = "Demo on the modelled schema: the real Backend.AI 26.9 schema could not be built: "


def test_a_demo_that_cannot_build_the_real_schema_falls_back_with_a_banner(
        pg_cluster: LocalCluster, console_env: Any, tmp_path: Path) -> None:
    # a project without the cached dump, and a Python 3.13 lookup that finds nothing
    console_env.setenv(PY313_ENV, str(tmp_path / "no-python3.13"))
    console_env.setenv(DEMO_DIR_ENV, str(tmp_path / "pg"))  # demo-url goes to tmp_path
    lines: list[str] = []
    env = launcher.demo_environment(pg_cluster, 200, project_root=tmp_path,
                                    progress=lines.append)
    said = "\n".join(lines)
    assert "building the Backend.AI 26.9 schema (first use, a few minutes)…" in said
    reason = f"{PY313_ENV}={tmp_path / 'no-python3.13'} is not a working Python >= 3.13"
    assert f"the real Backend.AI 26.9 schema could not be built: {reason}" in said
    assert "seeded 200 demo sessions on the modelled schema" in said
    assert env[DEMO_FALLBACK_ENV] == reason and env[DEMO_ENV] == "1"
    assert make_url(env[DATABASE_URL_ENV]).database == "pruner_demo"

    for key, value in env.items():
        console_env.setenv(key, value)
    for page in (None, "views/database.py", "views/history.py", "views/drain.py"):
        at = console(page=page)
        no_exceptions(at)
        assert at.warning and at.warning[0].value == BANNER + reason, page


def test_no_banner_without_a_fallback(console_env: Any) -> None:
    at = console()
    no_exceptions(at)
    assert not any(BANNER in w.value for w in at.warning)


POLICIES = """
CREATE TABLE retention_policies (
    category text PRIMARY KEY, retention_period interval NOT NULL,
    enabled boolean NOT NULL, last_swept_at timestamptz)
"""


@pytest.fixture
async def with_policies(db: AsyncEngine) -> Any:
    """The modelled test database plus the platform's `retention_policies` (Backend.AI 26.8+
    shape): two categories, one enabled and swept."""
    async with db.begin() as conn:
        await conn.execute(sa.text(POLICIES))
        await conn.execute(sa.text(
            "INSERT INTO retention_policies VALUES "
            "('sessions', interval '90 days', true, '2026-01-02 03:04+00'), "
            "('logs', interval '1 year', false, NULL)"))
    yield db
    async with db.begin() as conn:
        await conn.execute(sa.text("DROP TABLE retention_policies"))


async def test_the_platform_sweep_beside_the_pruners(with_policies: AsyncEngine,
                                                     console_env: Any) -> None:
    at = console()
    no_exceptions(at)
    assert ("Platform's own sweep of **sessions** (covered by sessions, sessions_errored): "
            "period **90 days**, **enabled**, last swept 2026-01-02 03:04 UTC.") in texts(at)

    at = console(page="views/database.py")
    no_exceptions(at)
    assert any(s.value == "The platform's own sweep" for s in at.subheader)
    shown = frame(at, ["category", "period", "enabled", "last swept", "pruners covering it"])
    rows = {r["category"]: r for r in shown.to_dict("records")}
    assert list(rows) == ["logs", "sessions"], "the platform's order"
    assert rows["sessions"]["period"] == "90 days" and rows["sessions"]["enabled"]
    assert rows["sessions"]["last swept"] == "2026-01-02 03:04 UTC"
    assert rows["sessions"]["pruners covering it"] == "sessions, sessions_errored"
    assert rows["logs"]["period"] == "1 year" and not rows["logs"]["enabled"]
    assert rows["logs"]["last swept"] == "—"
    assert rows["logs"]["pruners covering it"] == "audit_logs, error_logs, event_logs"
