"""The real-schema tier: Backend.AI manager schemas (built by the platform's own `schema
oneshot`, see core.demo.backendai) loaded into a throwaway cluster and seeded at a small size.

The dumps are built once and cached under .pruner/cache (scripts/test.sh builds them before the
tests); a tier that cannot get them fails with the reason instead of skipping.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from core.demo.backendai import RELEASES, BackendAIError, cached_meta, ensure_schema, load_schema
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
