"""The demo database of the console and the notebook: the real Backend.AI schema when it can be
had, else the modelled one.

`prepare_demo(cluster, base, sessions)` gives a seeded database on the demo cluster:

* **real** (the default): the current release's manager schema (`REAL_RELEASE`), built by the
  platform's own `schema oneshot` (`core.demo.backendai`: Python >= 3.13 and PyPI on first use,
  then the cached dump), loaded into its own database `<base>_<release>` (e.g.
  `pruner_demo_26_9`, so an older modelled demo in `<base>` is never mistaken for it) and seeded
  by `core.demo.backendai_seed`. The database's comment records what it holds once the seed has
  committed (`pruner demo: Backend.AI 26.9.6, 30000 sessions`): a later start finds it and
  reuses it, without building, loading or seeding anything.
* **modelled** (the fallback, or asked for): our reference schema in `<base>`, seeded by
  `core.demo.seed` once. When the real schema was wanted but could not be built (no Python 3.13,
  no network, pip or the oneshot failed…), `DemoDatabase.fallback` says why in one line.

Progress goes to `progress` one line a step (the first build takes minutes).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core import errors
from core.db import create_engine
from core.demo.backendai import (
    PROJECT_DIR,
    BackendAIError,
    Conn,
    cached_meta,
    load_schema,
    release_key,
    resolve_release,
)
from core.demo.backendai.cache import file_lock
from core.demo.backendai.common import say
from core.demo.backendai_seed import seed_backendai
from core.demo.cluster import ClusterError, LocalCluster
from core.demo.seed import is_seeded, seed
from core.journal import ensure_journal

REAL_RELEASE = "26.9"  # the current release: what the demo runs on
MODELLED = "modelled"
MARKER_PREFIX = "pruner demo: Backend.AI "

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoDatabase:
    url: str  # SQLAlchemy (asyncpg) URL, password included: never print it as is
    name: str  # the database's name on the demo cluster
    model: str  # REAL_RELEASE's key ("26.9") or MODELLED
    seeded: bool  # this call seeded it (False: it was there, reused)
    sessions: int  # sessions seeded (by this call or the one that made it)
    fallback: str | None = None  # why the real schema is not used, when it was wanted

    @property
    def real(self) -> bool:
        return self.model != MODELLED

    @property
    def banner(self) -> str | None:
        """What a console or notebook on this demo shows at the top, if anything."""
        if self.fallback is None:
            return None
        return fallback_banner(self.fallback)


def fallback_banner(reason: str) -> str:
    return (f"Demo on the modelled schema: the real Backend.AI {REAL_RELEASE} schema could not "
            f"be built: {reason}")


def real_database_name(base: str, release: str = REAL_RELEASE) -> str:
    """The real demo's database: `<base>_<release key>` (pruner_demo_26_9)."""
    return f"{base}_{release_key(release).replace('.', '_')}"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _recorded(conn: Conn, name: str) -> str:
    """The comment of database `name` ("" when it has none or does not exist)."""
    return conn.psql("SELECT coalesce(shobj_description(oid, 'pg_database'), '') "
                     "FROM pg_database WHERE datname = :'db'", db=name)


def _marker(version: str, sessions: int) -> str:
    return f"{MARKER_PREFIX}{version}, {sessions} sessions"


def _sessions_of(marker: str) -> int:
    try:
        return int(marker.rsplit(", ", 1)[1].split()[0])
    except (IndexError, ValueError):
        return 0


async def prepare_real(cluster: LocalCluster, base: str, sessions: int, *,
                       release: str = REAL_RELEASE, project_dir: Path = PROJECT_DIR,
                       progress: Progress | None = None) -> DemoDatabase:
    """The real demo database of `release`, reused when a seed of it committed, else built
    (the schema from the cache, or by the platform's oneshot on first use), loaded and seeded.
    Raises BackendAIError (or ClusterError, PrunerError) saying why it could not."""
    version = resolve_release(release)
    key = release_key(version)
    name = real_database_name(base, version)
    conn = Conn.of(cluster)
    with file_lock(cluster.datadir.parent / f".{name}.lock", progress, f"preparing {name}"):
        marker = await asyncio.to_thread(_recorded, conn, name)
        if marker.startswith(f"{MARKER_PREFIX}{version}, "):
            return DemoDatabase(conn.url(name, "postgresql+asyncpg"), name, key, seeded=False,
                                sessions=_sessions_of(marker))
        return await _build_real(cluster, conn, name, version, sessions, project_dir,
                                 progress)


async def _build_real(cluster: LocalCluster, conn: Conn, name: str, version: str,
                      sessions: int, project_dir: Path,
                      progress: Progress | None) -> DemoDatabase:
    key = release_key(version)
    if cached_meta(version, project_dir) is None:
        say(progress, f"building the Backend.AI {key} schema (first use, a few minutes)…")
    else:
        say(progress, f"loading the Backend.AI {version} schema (cached in .pruner/cache)…")
    url = await asyncio.to_thread(load_schema, cluster, name, version, replace=True,
                                  progress=progress, project_dir=project_dir)
    say(progress, f"seeding {sessions:,} sessions and the rows around them into {name}…")
    started = time.monotonic()
    engine = create_engine(url)
    try:
        counts = await seed_backendai(engine, version, sessions=sessions)
        await ensure_journal(engine)
    finally:
        await engine.dispose()
    await asyncio.to_thread(conn.psql, "COMMENT ON DATABASE :\"db\" IS :'marker'", db=name,
                            marker=_marker(version, sessions))
    say(progress, f"seeded {sum(counts.values()):,} rows in {len(counts)} tables "
                   f"({time.monotonic() - started:.0f} s)")
    return DemoDatabase(url, name, key, seeded=True, sessions=sessions)


async def prepare_modelled(cluster: LocalCluster, base: str, sessions: int,
                           fallback: str | None = None) -> DemoDatabase:
    """The modelled demo database `base`, seeded once."""
    url = await asyncio.to_thread(cluster.create_database, base)
    engine = create_engine(url)
    try:
        seeded = not await is_seeded(engine)
        if seeded:
            await seed(engine, sessions=sessions)
    finally:
        await engine.dispose()
    return DemoDatabase(url, base, MODELLED, seeded=seeded, sessions=sessions,
                        fallback=fallback)


async def prepare_demo(cluster: LocalCluster, base: str, sessions: int, *, real: bool = True,
                       project_dir: Path = PROJECT_DIR,
                       progress: Progress | None = None) -> DemoDatabase:
    """The seeded demo database on `cluster`: the real current schema (see the module), or the
    modelled one when `real` is False or the real one cannot be had (`fallback` says why)."""
    if not real:
        return await prepare_modelled(cluster, base, sessions)
    try:
        return await prepare_real(cluster, base, sessions, project_dir=project_dir,
                                  progress=progress)
    except (BackendAIError, ClusterError, errors.PrunerError, OSError) as exc:
        reason = _one_line(exc)
    say(progress, f"the real Backend.AI {REAL_RELEASE} schema could not be built: {reason}")
    say(progress, "using the modelled schema instead")
    return await prepare_modelled(cluster, base, sessions, fallback=reason)
