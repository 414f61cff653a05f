"""The demo data set: the reference schema filled with a year of realistic platform history.

Everything is generated inside PostgreSQL with set-based INSERT … SELECT, so a million sessions
never pass through Python. About 10% of sessions are live; most of the rest are dead (prunable),
a few are in ERROR (kept), and a few dead ones are blocked by a routing or a live kernel.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core import errors
from core.demo.cluster import LocalCluster, server_user_can_use
from core.journal import ensure_journal
from core.reference_schema import metadata

MIN_SESSIONS, MAX_SESSIONS = 1, 10_000_000

# Each statement only uses bound integers; the SQL itself is fixed text of ours.
_SEED = [
    # sessions: p < .10 live, .10-.13 ERROR, the rest TERMINATED (93%) / CANCELLED (7%)
    """
    INSERT INTO sessions (id, name, user_uuid, group_id, status, result, created_at, terminated_at)
    SELECT gen_random_uuid(), 'sess-' || g,
           ('00000000-0000-4000-8000-' || lpad(to_hex(g % 97), 12, '0'))::uuid,
           ('00000000-0000-4000-9000-' || lpad(to_hex(g % 7), 12, '0'))::uuid,
           CASE WHEN p < 0.10 THEN (ARRAY['RUNNING','PENDING','PREPARING','TERMINATING'])
                                   [1 + floor(random() * 4)::int]
                WHEN p < 0.13 THEN 'ERROR'
                WHEN p < 0.19 THEN 'CANCELLED'
                ELSE 'TERMINATED' END,
           CASE WHEN p < 0.10 THEN 'UNDEFINED' WHEN p < 0.19 THEN 'FAILURE' ELSE 'SUCCESS' END,
           now() - make_interval(secs => age + 3600 * (1 + random() * 48)),
           CASE WHEN p < 0.10 THEN NULL
                WHEN p > 0.9995 THEN NULL  -- a few dead rows never got a timestamp
                ELSE now() - make_interval(secs => age) END
    FROM (SELECT g, random() AS p, random() * 365 * 86400 AS age
          FROM generate_series(1, :n) AS g) AS src
    """,
    # two kernels per session (main + sub), same fate as the session...
    """
    INSERT INTO kernels (session_id, cluster_role, status, created_at, terminated_at)
    SELECT s.id, CASE WHEN k = 1 THEN 'main' ELSE 'sub' END, s.status, s.created_at,
           s.terminated_at
    FROM sessions s CROSS JOIN generate_series(1, 2) AS k
    """,
    # ...except 0.5% of dead sessions whose sub kernel is still RUNNING (blocked, kept).
    """
    UPDATE kernels k SET status = 'RUNNING', terminated_at = NULL
    FROM sessions s
    WHERE k.session_id = s.id AND k.cluster_role = 'sub'
      AND s.status IN ('TERMINATED', 'CANCELLED') AND random() < 0.005
    """,
    # routings: every live session, and 1% of dead ones (RESTRICT blocks those).
    """
    INSERT INTO routings (endpoint, session, status)
    SELECT '00000000-0000-4000-a000-000000000001'::uuid, s.id, 'HEALTHY'
    FROM sessions s
    WHERE s.status NOT IN ('TERMINATED', 'CANCELLED', 'ERROR') OR random() < 0.01
    """,
    # dependency edges: about 5% of sessions depend on another one.
    """
    INSERT INTO session_dependencies (session_id, depends_on)
    SELECT a.id, b.id
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS r FROM sessions) a
    JOIN (SELECT id, row_number() OVER (ORDER BY id) AS r FROM sessions) b ON b.r = a.r + 1
    WHERE a.r % 20 = 0
    """,
    # RBAC: user->session and project->session (session is the entity)...
    """
    INSERT INTO association_scopes_entities (scope_type, scope_id, entity_type, entity_id)
    SELECT 'user', s.user_uuid::text, 'session', s.id::text FROM sessions s
    UNION ALL
    SELECT 'project', s.group_id::text, 'session', s.id::text FROM sessions s
    """,
    # ...and session->kernel (session is the scope).
    """
    INSERT INTO association_scopes_entities (scope_type, scope_id, entity_type, entity_id)
    SELECT 'session', k.session_id::text, 'kernel', k.id::text FROM kernels k
    """,
    # vfolders: one per ten sessions; 60% hard-deleted.
    """
    INSERT INTO vfolders (name, "user", "group", status, created_at, status_changed)
    SELECT 'vf-' || g, ('00000000-0000-4000-8000-' || lpad(to_hex(g % 97), 12, '0'))::uuid,
           NULL,
           CASE WHEN p < 0.30 THEN 'ready' WHEN p < 0.35 THEN 'mounted'
                WHEN p < 0.40 THEN 'delete-pending' WHEN p < 0.55 THEN 'delete-error'
                ELSE 'delete-complete' END,
           now() - make_interval(secs => age + 86400),
           now() - make_interval(secs => age)
    FROM (SELECT g, random() AS p, random() * 365 * 86400 AS age
          FROM generate_series(1, greatest(:n / 10, 1)) AS g) AS src
    """,
    """
    INSERT INTO vfolder_permissions (vfolder, "user", permission)
    SELECT v.id, ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'rw'
    FROM vfolders v CROSS JOIN generate_series(1, 2) AS i
    """,
    # 2% of vfolders hold a model card (RESTRICT blocks pruning those).
    """
    INSERT INTO model_cards (name, vfolder)
    SELECT 'card-' || v.name, v.id FROM vfolders v WHERE random() < 0.02
    """,
    """
    INSERT INTO association_scopes_entities (scope_type, scope_id, entity_type, entity_id)
    SELECT 'user', v."user"::text, 'vfolder', v.id::text FROM vfolders v
    UNION ALL
    SELECT 'vfolder', v.id::text, 'vfolder_permission', p.id::text
    FROM vfolders v JOIN vfolder_permissions p ON p.vfolder = v.id
    """,
    # audit log: one row per session over the year.
    """
    INSERT INTO audit_logs (created_at, actor, action, target)
    SELECT now() - make_interval(secs => random() * 365 * 86400),
           'user-' || (g % 97), (ARRAY['login','create','destroy','share'])[1 + g % 4],
           'sess-' || g
    FROM generate_series(1, :n) AS g
    """,
]


async def create_schema(engine: AsyncEngine | AsyncConnection) -> None:
    """Create the reference schema and the journal (idempotent)."""
    if isinstance(engine, AsyncEngine):
        async with engine.begin() as conn:
            await create_schema(conn)
        return
    await engine.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pgcrypto"))
    await engine.run_sync(metadata.create_all, checkfirst=True)
    await ensure_journal(engine)


async def is_seeded(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        exists = (await conn.execute(sa.text("SELECT to_regclass('public.sessions')"))).scalar()
        if exists is None:
            return False
        return bool((await conn.execute(
            sa.text("SELECT EXISTS (SELECT 1 FROM sessions)"))).scalar())


async def seed(engine: AsyncEngine, sessions: int = 20_000, *,
               seed_value: float = 0.42) -> dict[str, int]:
    """Create the schema and add `sessions` sessions (and everything around them)."""
    if isinstance(sessions, bool) or not isinstance(sessions, int) or not (
        MIN_SESSIONS <= sessions <= MAX_SESSIONS
    ):
        raise errors.InvalidArgument(
            f"sessions must be a whole number from {MIN_SESSIONS} to {MAX_SESSIONS:,}"
        )
    await create_schema(engine)
    async with engine.begin() as conn:
        await conn.execute(sa.select(sa.func.setseed(seed_value)))
        for stmt in _SEED:
            await conn.execute(sa.text(stmt), {"n": sessions})
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(sa.text("ANALYZE"))
        counts = {}
        for table in metadata.sorted_tables:
            counts[table.name] = (
                await conn.execute(sa.select(sa.func.count()).select_from(table))
            ).scalar_one()
    return counts


DEMO_DIR_ENV = "PRUNER_DEMO_DIR"


def demo_cluster_dir(project_dir: Path) -> Path:
    """Where the embedded demo cluster lives: `.pruner/demo-pg` in the project, unless the server
    user cannot reach the project (root running from a private home), then under /var/tmp."""
    configured = os.environ.get(DEMO_DIR_ENV)
    if configured:
        return Path(configured)
    local = project_dir / ".pruner" / "demo-pg"
    if server_user_can_use(project_dir):
        return local
    digest = hashlib.sha256(str(project_dir.resolve()).encode()).hexdigest()[:12]
    return Path("/var/tmp") / f"pruner-demo-{digest}" / "pg"


def demo_url_file(project_dir: Path) -> Path:
    """`.pruner/demo-url` in the project; beside the cluster when PRUNER_DEMO_DIR moves it."""
    configured = os.environ.get(DEMO_DIR_ENV)
    if configured:
        return Path(configured).parent / "demo-url"
    return project_dir / ".pruner" / "demo-url"


def write_demo_url(project_dir: Path, url: str) -> Path:
    """Write the demo database's URL, password included, to `demo_url_file` (`.pruner/demo-url`),
    readable by its owner only (0600), for `PRUNER_DATABASE_URL=$(cat .pruner/demo-url)`; the
    logs show the URL with its password masked. Returns the file's path."""
    path = demo_url_file(project_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        os.fchmod(out.fileno(), 0o600)  # also when the file was already there
        out.write(url + "\n")
    return path


def _demo_cluster(project_dir: Path) -> LocalCluster:
    datadir = demo_cluster_dir(project_dir)
    datadir.parent.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.chmod(datadir.parent, 0o755)  # the server user must reach its data directory
    return LocalCluster(datadir)


def start_demo_cluster(project_dir: Path) -> LocalCluster:
    """Start (creating on first use) the embedded demo cluster; its data survives restarts."""
    cluster = _demo_cluster(project_dir)
    cluster.start()
    return cluster


def lease_demo_cluster(project_dir: Path) -> tuple[LocalCluster, bool]:
    """Lease the embedded demo cluster for this process, starting it if it is not running
    (`LocalCluster.acquire`); returns it and whether this call started it. Give the lease back
    with `cluster.release()`, which stops the server only when nobody else uses it."""
    cluster = _demo_cluster(project_dir)
    return cluster, cluster.acquire()
