"""Least privilege (issue 12): a login role with exactly the grants docs/reliability.md lists
(read from that page, so the page and the test cannot drift) runs every CLI command and a
restore, and cannot make a live row terminal."""

from __future__ import annotations

import csv
import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from core import create_engine, journal
from core.demo.cluster import LocalCluster
from core.demo.seed import create_schema
from core.restore import restore
from tests.clirun import cli
from tests.factories import add_logs, add_session, add_vfolder

pytestmark = pytest.mark.timeout(300)

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
MARKER = "<!-- least-privilege grants: tests/pg/test_least_privilege.py runs this block"
ROLE = "pruner_app"
DATABASE = "pruner_privilege"


def documented_grants() -> str:
    """The SQL block that follows the marker on docs/reliability.md."""
    text = DOC.read_text()
    after = text[text.index(MARKER):]
    found = re.search(r"```sql\n(.*?)```", after, re.S)
    assert found, "the grants block is missing"
    return found.group(1)


@pytest.fixture(scope="module")
def owner_url(pg_cluster: LocalCluster) -> str:
    return pg_cluster.create_database(DATABASE)


@pytest.fixture
async def owner(owner_url: str) -> AsyncIterator[AsyncEngine]:
    """The database owner's engine: schema and journal created, tables emptied."""
    eng = create_engine(owner_url)
    await create_schema(eng)
    async with eng.begin() as conn:
        names = [f'"{t}"' for t in (await conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))).scalars()]
        names += [f"pruner.{t}" for t in (await conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'pruner'"))).scalars()]
        await conn.execute(sa.text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
    yield eng
    await eng.dispose()


@pytest.fixture
def role_url(pg_cluster: LocalCluster, owner_url: str, owner: AsyncEngine) -> str:
    """A fresh login role with the documented grants and nothing else."""
    password = "app-" + uuid.uuid4().hex[:16]
    exists = pg_cluster.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}'")  # noqa: S608
    if exists:
        pg_cluster.psql(f"REASSIGN OWNED BY {ROLE} TO pruner", DATABASE)
        pg_cluster.psql(f"DROP OWNED BY {ROLE}", DATABASE)
        pg_cluster.psql(f"DROP ROLE {ROLE}")
    pg_cluster.psql(f"CREATE ROLE {ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                    f"PASSWORD '{password}'")
    pg_cluster.psql("REVOKE CREATE ON SCHEMA public FROM PUBLIC", DATABASE)
    pg_cluster.psql(documented_grants(), DATABASE)
    url = make_url(owner_url).set(username=ROLE, password=password)
    return url.render_as_string(hide_password=False)


def ok(proc: object) -> dict[str, object]:
    code, out, err = (getattr(proc, a) for a in ("returncode", "stdout", "stderr"))
    assert code == 0, (code, out, err)
    return json.loads(out) if out.startswith(("{", "[")) else {}


async def test_the_documented_role_runs_every_command(role_url: str, owner: AsyncEngine,
                                                      tmp_path: Path) -> None:
    sids = [await add_session(owner, age_days=200 - i) for i in range(9)]  # oldest first
    await add_session(owner, age_days=300, routed=True)  # blocked: read, never deleted
    await add_vfolder(owner, age_days=100)
    await add_logs(owner, [300, 200])

    assert ok(await cli(role_url, "list", "--json"))["pruners"]
    assert (await cli(role_url, "check")).returncode == 0
    pv = ok(await cli(role_url, "preview", "sessions", "--older-than", "30d", "--json"))
    assert (pv["candidates"], pv["blocked"]) == (9, 1)
    dry = ok(await cli(role_url, "prune", "sessions", "--older-than", "30d", "--limit", "2",
                       "--dry-run", "--yes", "--json"))
    assert dry["count"] == 2
    first = ok(await cli(role_url, "prune", "sessions", "--older-than", "30d", "--limit", "2",
                         "--yes", "--json", "--reason", "least privilege"))
    archived = ok(await cli(role_url, "prune", "sessions", "--older-than", "30d", "--limit",
                            "2", "--archive", "--yes", "--json"))
    for entity in ("vfolders", "audit_logs"):
        assert ok(await cli(role_url, "prune", entity, "--older-than", "30d", "--yes",
                            "--json"))["count"] >= 1
    drained = ok(await cli(role_url, "drain", "sessions", "--older-than", "30d",
                           "--batch-size", "2", "--max-batches", "2", "--yes", "--json"))
    assert drained["count"] == 4, drained
    history = ok(await cli(role_url, "history", "--json"))
    assert len(history["runs"]) >= 6
    out = tmp_path / "run.csv"
    assert (await cli(role_url, "export", str(first["run_id"]), "--csv", str(out))
            ).returncode == 0
    assert [r["id"] for r in csv.DictReader(out.open())] == [str(i) for i in sids[:2]]
    out = tmp_path / "archive.csv"
    assert (await cli(role_url, "export", str(archived["run_id"]), "--archive", "--csv",
                      str(out))).returncode == 0
    assert sum(1 for r in csv.DictReader(out.open()) if r["table"] == "sessions") == 2

    role = create_engine(role_url)
    try:
        back = await restore(role, archived["run_id"], operator="app", reason="undo")
        assert back.inserted["sessions"] == 2
        await journal.parked.park(role, "sessions", str(sids[-1]), "test", drain_id=None)
        await journal.parked.park(role, "sessions", str(sids[-1]), "again", drain_id=None)
        assert await journal.parked.release(role, "sessions", [str(sids[-1])]) == 1
        drain_id = str(uuid.uuid4())
        await journal.drains.start(role, drain_id, entity="sessions", cutoff=datetime.now(UTC),
                                   batch_size=1, max_batches=None, operator="app", reason="",
                                   estimated=0)
        assert (await journal.drains.request_stop(role, drain_id)).stop_requested
    finally:
        await role.dispose()
    async with owner.connect() as conn:
        left = set((await conn.execute(sa.text("SELECT id::text FROM sessions"))).scalars())
    assert {str(i) for i in sids[2:4]} <= left, "the restore put the archived run back"


@pytest.mark.parametrize("sql", [
    "UPDATE sessions SET status = 'TERMINATED'",
    "UPDATE sessions SET terminated_at = now() - interval '1000 days'",
    "UPDATE kernels SET status = 'TERMINATED'",
    "UPDATE vfolders SET status = 'delete-complete'",
    "UPDATE audit_logs SET created_at = now() - interval '1000 days'",
    "UPDATE pruner.prune_runs SET count = 0",
    "DELETE FROM pruner.prune_runs",
    "DELETE FROM routings",
    "INSERT INTO routings (endpoint, session) VALUES (gen_random_uuid(), NULL)",
])
async def test_the_role_cannot_make_a_live_row_terminal(role_url: str, owner: AsyncEngine,
                                                        sql: str) -> None:
    live = await add_session(owner, status="RUNNING", age_days=None)
    role = create_engine(role_url)
    try:
        with pytest.raises(sa.exc.DBAPIError) as info:
            async with role.begin() as conn:
                await conn.execute(sa.text(sql))
        assert "permission denied" in str(info.value)
        assert getattr(info.value.orig, "sqlstate", None) == "42501"
    finally:
        await role.dispose()
    async with owner.connect() as conn:
        status = (await conn.execute(sa.text("SELECT status FROM sessions WHERE id = :i"),
                                     {"i": live})).scalar_one()
    assert status == "RUNNING"


async def test_without_the_column_grant_a_prune_is_permission_denied(
        pg_cluster: LocalCluster, role_url: str, owner: AsyncEngine) -> None:
    """The column-level UPDATE is what FOR UPDATE needs: take it away and the prune stops with
    a clear PermissionDenied, nothing deleted."""
    await add_session(owner, age_days=100)
    pg_cluster.psql(f"REVOKE UPDATE (id) ON sessions FROM {ROLE}", DATABASE)
    proc = await cli(role_url, "prune", "sessions", "--older-than", "30d", "--yes")
    assert proc.returncode == 1 and "permission denied" in proc.stderr, proc.stderr
    async with owner.connect() as conn:
        assert (await conn.execute(sa.text("SELECT count(*) FROM sessions"))).scalar_one() == 1
