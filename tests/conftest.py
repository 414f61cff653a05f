"""Test harness: one throwaway PostgreSQL cluster per test session (per xdist worker), started by
the tests.

The cluster lives in a temp dir (as root it belongs to the `postgres` OS user, see
core.demo.cluster). Every test starts from empty reference and journal tables.

Tests are grouped in tiers, one folder each, and every test is marked with its folder's name:

    unit         pure Python, no server (seconds)
    pg           the library and the CLI on PostgreSQL
    console      the Streamlit console through AppTest
    reliability  concurrency, faults, bad input, preview honesty (size: PRUNER_SOAK)
    e2e          a real headless Chromium (marker: browser)
    realschema   Backend.AI's own schemas, built from PyPI

`pytest -m "unit or pg"` is the fast tier.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from core import create_engine
from core.demo.cluster import LocalCluster
from core.demo.seed import create_schema
from core.journal import metadata as journal_metadata
from core.reference_schema import metadata
from tests.clusters import temp_cluster

TIERS = {"unit": "unit", "pg": "pg", "console": "console", "reliability": "reliability",
         "e2e": "browser", "realschema": "realschema"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        parts = Path(str(item.path)).relative_to(here).parts
        marker = TIERS.get(parts[0]) if len(parts) > 1 else None
        if marker:
            item.add_marker(marker)


@pytest.fixture(autouse=True)
def _keep_main_module() -> Iterator[None]:
    """Streamlit's AppTest runs the app as `__main__` in this process and leaves it there; a
    later test that spawns worker processes would then re-run the console in each worker."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[LocalCluster]:
    with temp_cluster("pruner-test-") as cluster:
        yield cluster


@pytest.fixture(scope="session")
def database_url(pg_cluster: LocalCluster) -> str:
    return pg_cluster.create_database("pruner_test")


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(database_url, pool_size=10, max_overflow=20)
    await create_schema(eng)
    yield eng
    await eng.dispose()


ALL_TABLES = ", ".join(
    [f'"{t.name}"' for t in metadata.sorted_tables]
    + [f'{t.schema}."{t.name}"' for t in journal_metadata.sorted_tables]
)


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncEngine:
    """The session engine on emptied tables."""
    async with engine.begin() as conn:
        await conn.execute(sa.text(f"TRUNCATE {ALL_TABLES} RESTART IDENTITY CASCADE"))
    return engine
