"""Which model the live catalog picks (modelled, 26.8, 26.9), the one line for a database that
fits none (before anything is written), ids of a real-schema run going back through
`pruner export` / `--ids-from` (uuid keys), and the preflight on the real schemas."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from core import errors, registry
from core.backendai.facts import MODELLED, R26_8, R26_9
from core.demo.backendai import Conn
from core.demo.cluster import LocalCluster
from core.demo.seed import create_schema
from core.preflight import preflight
from tests.clirun import cli
from tests.realschema import pack

pytestmark = pytest.mark.realschema

REFERENCE = ("sessions", "vfolders", "audit_logs")


@pytest.mark.parametrize("release", (R26_8, R26_9))
async def test_the_catalog_picks_the_release(rolled_back: Any, release: str) -> None:
    conn: AsyncConnection = await rolled_back(release)
    chosen = {}
    for name in registry.names():
        try:
            chosen[name] = (await registry.resolve(conn, name)).model
        except errors.SchemaMissing as exc:
            chosen[name] = str(exc)
    only = {R26_8: ("role_invitations", "vfolder_invitations"), R26_9: ("entity_shares",)}
    other = R26_9 if release == R26_8 else R26_8
    for name, model in chosen.items():
        if name in only[other]:
            assert model.startswith(f"unsupported schema for {name}: "), model
            assert "\n" not in model
        else:
            assert model == release, (name, model)


async def test_the_catalog_picks_the_modelled_schema(realschema_cluster: LocalCluster) -> None:
    url = realschema_cluster.create_database("pack_modelled")
    engine = create_async_engine(url)
    try:
        await create_schema(engine)
        for name in REFERENCE:
            assert (await registry.resolve(engine, name)).model == MODELLED
        # the reference entities' modelled declarations are the ones `get` returns
        assert all(registry.get(n).model == MODELLED for n in REFERENCE)
        with pytest.raises(errors.SchemaMissing,
                           match=r"^unsupported schema for event_logs: 26\.9 needs "
                                 r"retention_policies, .*; 26\.8 needs retention_policies"):
            await registry.resolve(engine, "event_logs")
    finally:
        await engine.dispose()


async def test_a_database_that_fits_no_model_is_refused_in_one_line(
        fresh: Any, realschema_cluster: LocalCluster) -> None:
    # a later release that dropped a table the 26.9 declarations need
    engine: AsyncEngine = await fresh(R26_9)
    async with engine.begin() as conn:
        await conn.execute(sa.text("DROP TABLE entity_labels"))
        await pack.snapshot(conn)
        tx_before = (await conn.execute(sa.text(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"))
        ).scalar()
    url = engine.url.render_as_string(hide_password=False)
    for args in (("prune", "sessions", "--older-than", "30d", "--yes"),
                 ("preview", "vfolders", "--older-than", "30d")):
        r = await cli(url, *args)
        assert r.returncode == 1, (r.stdout, r.stderr)
        line = r.stderr.strip()
        assert "\n" not in line and r.stdout == ""
        name = args[1]
        assert line.startswith(f"pruner: failed: unsupported schema for {name}: "), line
        assert "26.9 needs entity_labels" in line and "; 26.8 needs retention_policies" not in \
            line and "26.8 needs object_permissions" in line, line
    async with engine.begin() as conn:
        changes = await pack.compare(conn)
        journal = (await conn.execute(sa.text("SELECT to_regnamespace('pruner')"))).scalar()
    assert changes.deleted == {} and changes.updated == {}
    assert journal is None, "nothing was written, not even the journal"
    assert tx_before is not None


async def test_exported_ids_of_a_real_schema_run_go_back_in(fresh: Any, tmp_path: Path) -> None:
    engine: AsyncEngine = await fresh(R26_9)
    url = engine.url.render_as_string(hide_password=False)
    for entity in ("audit_logs", "sessions"):
        r = await cli(url, "prune", entity, "--older-than", "60d", "--limit", "4", "--yes",
                      "--json")
        assert r.returncode == 0, r.stderr
        run = json.loads(r.stdout)
        assert run["count"] == 4
        out = tmp_path / f"{entity}.csv"
        r = await cli(url, "export", str(run["run_id"]), "--csv", str(out))
        assert r.returncode == 0, r.stderr
        exported = [row["id"] for row in csv.DictReader(io.StringIO(out.read_text()))]
        assert exported == run["ids"] and all(len(i) == 36 for i in exported)  # uuids
        # the file goes back in as it is: uuid keys accepted; they are gone, so each is
        # reported, not refused
        r = await cli(url, "prune", entity, "--older-than", "60d", "--ids-from", str(out),
                      "--yes", "--json")
        assert r.returncode == 0, r.stderr
        again = json.loads(r.stdout)
        assert again["count"] == 0 and again["skipped"] == exported
        # and ids that still qualify, in the same format, are pruned exactly
        r = await cli(url, "prune", entity, "--older-than", "60d", "--limit", "3", "--dry-run",
                      "--json")
        rehearsed = json.loads(r.stdout)["ids"]
        out.write_text("id\n" + "\n".join(rehearsed) + "\n")
        r = await cli(url, "prune", entity, "--older-than", "60d", "--ids-from", str(out),
                      "--yes", "--json")
        assert r.returncode == 0, r.stderr
        done = json.loads(r.stdout)
        assert done["ids"] == rehearsed and done["count"] == 3 and not done["skipped"]


@pytest.mark.parametrize("release", (R26_8, R26_9))
async def test_preflight_names_unindexed_lookups_and_the_candidate_index(
        rolled_back: Any, release: str, pack_engines: dict[str, AsyncEngine]) -> None:
    conn: AsyncConnection = await rolled_back(release)
    pf = await preflight(conn, await registry.resolve(conn, "sessions"))
    assert pf.model == release
    by = {(u.table.split(".")[-1], u.columns): u for u in pf.unindexed}
    routings = by[("routings", ("session",))]  # RESTRICT, no index upstream
    assert routings.kind == "foreign key" and routings.rows > 0
    assert routings.fix == "CREATE INDEX CONCURRENTLY ON routings (session);"
    assert by[("vfolder_attachment", ("kernel",))].rows > 0
    assert ("kernel_usage_records", ("session_id",)) in by  # a mention: previews scan it
    # the association / node lookups are indexed upstream; 26.8 object permissions are not
    assert not any(t.endswith("association_scopes_entities") or t == "virtual_entities"
                   for t, _ in by)
    if release == R26_8:
        assert by[("object_permissions", ("entity_type", "entity_id"))].kind == "link"
    c = pf.candidate_index
    assert c is not None and c.columns == ("terminated_at", "id")
    assert c.statement == (
        'CREATE INDEX CONCURRENTLY ix_sessions_prune_sessions ON sessions (terminated_at, id) '
        "WHERE sessions.status IN ('TERMINATED', 'CANCELLED');")
    assert c.existing == ("ix_sessions_terminated_at",)
    doc = pf.to_dict()
    assert doc["candidate_index"]["where"] == "sessions.status IN ('TERMINATED', 'CANCELLED')"
    assert all({"table", "columns", "kind", "what", "rows", "fix"} <= set(u)
               for u in doc["unindexed"])
    # what is offered runs as written (without CONCURRENTLY inside this transaction)
    for stmt in [c.statement, *(u.fix for u in pf.unindexed)]:
        await conn.execute(sa.text(stmt.replace(" CONCURRENTLY", "")))
    again = await preflight(conn, await registry.resolve(conn, "sessions"))
    assert again.unindexed == [] and "ix_sessions_prune_sessions" in again.candidate_index.existing
    logs = await preflight(conn, await registry.resolve(conn, "audit_logs"))
    assert logs.candidate_index is not None and logs.candidate_index.where is None
    assert Conn  # (import kept for fixtures' types)


@pytest.mark.parametrize("release", (R26_8, R26_9))
async def test_check_passes_on_each_release(fresh: Any, release: str) -> None:
    engine: AsyncEngine = await fresh(release)
    r = await cli(engine.url.render_as_string(hide_password=False), "check", "--json")
    assert r.returncode == 0, r.stdout[-2000:]
    doc = json.loads(r.stdout)
    assert doc["model"] == release and doc["ok"]
    absent = {R26_8: ["entity_shares"], R26_9: ["role_invitations", "vfolder_invitations"]}
    assert doc["not_in_model"] == absent[release]
    assert {c["name"] for c in doc["pruners"]} == set(registry.names()) - set(absent[release])


async def test_preview_and_rehearsal_in_the_cli_name_the_unindexed_lookups(fresh: Any) -> None:
    """Issue 9, item 6: the CLI's preview and rehearsal warn about every unindexed lookup a
    prune makes PostgreSQL do, with the rows behind it and the statement that fixes it."""
    engine: AsyncEngine = await fresh(R26_9)
    url = engine.url.render_as_string(hide_password=False)
    r = await cli(url, "preview", "sessions", "--older-than", "30d")
    assert r.returncode == 0, r.stderr
    lines = [x for x in r.stdout.splitlines() if x.startswith("preflight: ")]
    assert any("routings(session) has no index" in x
               and x.endswith("CREATE INDEX CONCURRENTLY ON routings (session);") for x in lines)
    r = await cli(url, "preview", "sessions", "--older-than", "30d", "--json")
    doc = json.loads(r.stdout)
    assert {u["table"].split(".")[-1] for u in doc["preflight"]["unindexed"]} >= {
        "routings", "vfolder_attachment"}
    r = await cli(url, "prune", "sessions", "--older-than", "30d", "--limit", "5", "--dry-run")
    assert r.returncode == 0 and "would delete 5 sessions" in r.stdout
    assert "routings(session) has no index" in r.stdout
