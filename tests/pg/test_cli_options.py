"""Global options in either position (issue 12, case 8) and --older-than on a real database
(case 9): `pruner --database-url X prune …` runs on X, `pruner --json …` prints JSON."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core import create_engine
from core.demo.cluster import LocalCluster
from core.demo.seed import create_schema
from core.reference_schema import audit_logs, sessions
from tests.clirun import cli
from tests.factories import add_logs, add_session, count

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def other_url(pg_cluster: LocalCluster) -> str:
    return pg_cluster.create_database("pruner_cli_other")


@pytest.fixture
async def other_db(other_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(other_url)
    await create_schema(eng)
    async with eng.begin() as conn:
        await conn.execute(sessions.delete())
    yield eng
    await eng.dispose()


@pytest.mark.parametrize("where", ["before", "after"])
async def test_database_url_before_or_after_the_subcommand_is_the_one_used(
        db, database_url, other_db, other_url, where):
    await add_session(db, age_days=30)
    await add_session(other_db, age_days=30)
    command = ["prune", "sessions", "--older-than", "7d", "--yes"]
    argv = (["--database-url", other_url, *command] if where == "before"
            else [*command, "--database-url", other_url])
    r = await cli(database_url, *argv)  # $PRUNER_DATABASE_URL is the *other* database
    assert r.returncode == 0, r.stderr
    assert await count(other_db, sessions) == 0  # deleted where --database-url points
    assert await count(db, sessions) == 1  # not in $PRUNER_DATABASE_URL's


async def test_json_before_the_subcommand_prints_json(db, database_url):
    await add_session(db, age_days=30)
    for argv in (["--json", "list"], ["--json", "preview", "sessions", "--older-than", "7d"],
                 ["--json", "prune", "sessions", "--older-than", "7d", "--yes"],
                 ["--json", "history"], ["--json", "check", "sessions"]):
        r = await cli(database_url, *argv)
        assert r.returncode == 0, (argv, r.stderr)
        assert isinstance(json.loads(r.stdout), dict), argv


async def test_two_different_database_urls_are_refused(db, database_url, other_url):
    await add_session(db, age_days=30)
    r = await cli(None, "--database-url", database_url, "prune", "sessions", "--older-than",
                  "7d", "--yes", "--database-url", other_url)
    assert r.returncode == 2 and "--database-url is given twice" in r.stderr
    assert await count(db, sessions) == 1
    r = await cli(None, "--database-url", database_url, "history", "--database-url",
                  database_url)  # the same one twice is just the one
    assert r.returncode == 0, r.stderr


async def test_global_options_before_console_reach_it_or_are_refused(database_url):
    r = await cli(database_url, "--json", "console", "--port", "1")
    assert r.returncode == 2 and "no --json" in r.stderr


# ------------------------------------------------------------------------------ case 9
@pytest.mark.parametrize("value, says", [
    ("3m", "write 3min for minutes or P3M for calendar months"),
    ("1y", "write P1Y"), ("3mo", "write P3M"), ("P1.5M", "whole numbers"),
])
async def test_ambiguous_or_unsupported_durations_are_refused(db, database_url, value, says):
    await add_logs(db, [400, 100, 40, 10])
    r = await cli(database_url, "drain", "audit_logs", "--older-than", value, "--yes")
    assert r.returncode == 2 and says in r.stderr, r.stderr
    assert await count(db, audit_logs) == 4


@pytest.mark.parametrize("value, left", [
    ("P1Y", 3), ("P3M", 2), ("P1M", 1), ("60d", 2), ("2w", 1), ("90min", 0), ("PT12H", 0),
    ("45s", 0),
])
async def test_a_drain_takes_only_what_its_duration_says(db, database_url, value, left):
    await add_logs(db, [400, 100, 40, 10])  # days old
    r = await cli(database_url, "drain", "audit_logs", "--older-than", value, "--yes", "--json")
    assert r.returncode == 0, r.stderr
    assert await count(db, audit_logs) == left, value
