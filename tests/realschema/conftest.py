"""The real-schema tier: Backend.AI manager schemas (built by the platform's own `schema
oneshot`, see core.demo.backendai) loaded into a throwaway cluster and seeded at a small size.

The dumps are built once and cached under .pruner/cache (scripts/test.sh builds them before the
tests); a tier that cannot get them fails with the reason instead of skipping.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from core.demo.backendai import (
    RELEASES,
    BackendAIError,
    Conn,
    cached_meta,
    check_identifier,
    ensure_schema,
    load_schema,
)
from core.demo.backendai_seed import seed_backendai
from core.demo.cluster import LocalCluster
from tests.realschema.helpers import SEED_SESSIONS, Seeded


@pytest.fixture(scope="session")
def realschema_dumps() -> dict[str, Path]:
    """The cached dump of each pinned release (built here if missing: minutes)."""
    dumps = {}
    for key in RELEASES:
        try:
            dumps[key] = ensure_schema(key)
        except BackendAIError as exc:
            pytest.fail(f"cannot build the Backend.AI {key} schema: {exc}", pytrace=False)
    return dumps


@pytest.fixture(scope="session")
def realschema_cluster() -> Iterator[LocalCluster]:
    base = Path(tempfile.mkdtemp(prefix="pruner-realschema-"))
    os.chmod(base, 0o755)  # the server user must traverse it when we run as root
    cluster = LocalCluster(base / "pg")
    cluster.start()
    yield cluster
    cluster.destroy()
    base.rmdir() if base.exists() and not any(base.iterdir()) else None


@pytest.fixture(scope="session", params=sorted(RELEASES))
async def seeded(request: pytest.FixtureRequest, realschema_dumps: dict[str, Path],
                 realschema_cluster: LocalCluster) -> AsyncIterator[Seeded]:
    """A freshly loaded and seeded database of each release."""
    release = request.param
    started = time.monotonic()
    url = load_schema(realschema_cluster, "rs_" + release.replace(".", "_"), release,
                      replace=True, progress=None)
    loaded = time.monotonic()
    engine = create_async_engine(url, pool_size=4)
    counts = await seed_backendai(engine, release, sessions=SEED_SESSIONS)
    meta = cached_meta(release)
    assert meta is not None
    yield Seeded(release, engine, counts, meta, loaded - started, time.monotonic() - loaded)
    await engine.dispose()


@pytest.fixture(scope="session")
async def pack_templates(realschema_dumps: dict[str, Path],
                         realschema_cluster: LocalCluster) -> dict[str, str]:
    """A seeded database per release that tests copy (CREATE DATABASE … TEMPLATE): each test
    that prunes gets its own fresh copy in a fraction of a second."""
    names = {}
    for release in sorted(RELEASES):
        name = "pack_tpl_" + release.replace(".", "_")
        url = await asyncio.to_thread(load_schema, realschema_cluster, name, release,
                                      replace=True, progress=None)
        engine = create_async_engine(url)
        try:
            await seed_backendai(engine, release, sessions=SEED_SESSIONS)
        finally:
            await engine.dispose()
        names[release] = name
    return names


@pytest.fixture
async def fresh(pack_templates: dict[str, str], realschema_cluster: LocalCluster,
                ) -> AsyncIterator[Callable[[str], Awaitable[AsyncEngine]]]:
    """`await fresh("26.9")`: an engine on a new copy of the seeded template of that release,
    dropped after the test."""
    made: list[tuple[str, AsyncEngine]] = []
    conn = Conn.of(realschema_cluster)

    async def make(release: str) -> AsyncEngine:
        name = check_identifier(f"pack_{os.getpid()}_{next(_COUNTER)}")
        await asyncio.to_thread(conn.psql, 'CREATE DATABASE :"db" TEMPLATE :"tpl"', db=name,
                                tpl=pack_templates[release])
        engine = create_async_engine(conn.url(name, "postgresql+asyncpg"), pool_size=6)
        made.append((name, engine))
        return engine

    yield make
    for name, engine in made:
        await engine.dispose()
        await asyncio.to_thread(conn.psql, 'DROP DATABASE IF EXISTS :"db" WITH (FORCE)', db=name)


_COUNTER = itertools.count(1)


@pytest.fixture(scope="session")
async def pack_engines(pack_templates: dict[str, str], realschema_cluster: LocalCluster,
                       ) -> AsyncIterator[dict[str, AsyncEngine]]:
    """One engine per release on a copy of the seeded template that tests never change: each
    test works in a transaction it rolls back (`rolled_back`), and plans and compiled
    statements are cached per engine, as in a long-running console."""
    conn = Conn.of(realschema_cluster)
    engines = {}
    for release, template in pack_templates.items():
        name = check_identifier(f"{template}_ro")
        await asyncio.to_thread(conn.psql, 'DROP DATABASE IF EXISTS :"db" WITH (FORCE)', db=name)
        await asyncio.to_thread(conn.psql, 'CREATE DATABASE :"db" TEMPLATE :"tpl"', db=name,
                                tpl=template)
        engines[release] = create_async_engine(conn.url(name, "postgresql+asyncpg"))
    yield engines
    for engine in engines.values():
        await engine.dispose()


@pytest.fixture
async def rolled_back(pack_engines: dict[str, AsyncEngine],
                      ) -> AsyncIterator[Callable[[str], Awaitable[AsyncConnection]]]:
    """`await rolled_back("26.8")`: a connection in a transaction on the seeded database of that
    release; everything the test does in it is rolled back at its end."""
    opened: list[tuple[AsyncConnection, Any]] = []

    async def make(release: str) -> AsyncConnection:
        conn = await pack_engines[release].connect()
        opened.append((conn, await conn.begin()))
        return conn

    yield make
    for conn, trans in opened:
        await trans.rollback()
        await conn.close()
