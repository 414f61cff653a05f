"""The Backend.AI pack on the real manager schemas (26.8.3 and 26.9.6), seeded.

For every pruner of the pack and both releases, on a fresh copy of the seeded database: the
rows a prune deletes are exactly the ones the platform's facts say (computed independently in
SQL, `expected.py`), nothing else is deleted or changed (every deleted row of another table
names a deleted row; changed rows are only the declared SET NULL references of pruned rows),
no row of an FK child, an RBAC table or an FK-less reference names a pruned row afterwards,
and the preview's per-table counts are the per-table row deltas.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core import registry
from core.backendai.facts import R26_8, R26_9
from core.db import Database
from core.preview import preview
from core.repository.pruner import execute, sweep
from core.settings import PruneSettings
from tests.realschema import pack
from tests.realschema.expected import BEFORE, CUTOFF_DAYS, DEFAULT_DAYS, EXPECTED, UPDATED
from tests.realschema.test_schema_build import _FK_ORPHANS

pytestmark = pytest.mark.realschema

BIG = PruneSettings(max_limit=100_000)
RELEASE_ONLY = {"entity_shares": R26_9, "role_invitations": R26_8,
                "vfolder_invitations": R26_8}
CASES = [(release, name) for release in (R26_8, R26_9) for name in EXPECTED
         if RELEASE_ONLY.get(name, release) == release]

# Rows the seed guarantees each pruner has to delete (the cases the pack must get right are
# there, not only an empty run).
AT_LEAST = {"vfolders": 2, "endpoints": 1, "session_groups": 1, "replica_groups": 1,
            "routings": 5, "sessions": 50, "sessions_errored": 1, "roles": 1}


# Tables each prune must reach in the seed (so the cascade and RBAC paths are exercised).
TOUCHES = {
    (R26_8, "sessions"): ("kernels", "resource_allocations", "vfolder_attachment",
                          "session_idle_checks", "association_scopes_entities",
                          "object_permissions"),
    (R26_9, "sessions"): ("kernels", "resource_allocations", "vfolder_attachment",
                          "session_idle_checks", "virtual_entities", "entity_memberships",
                          "entity_membership_caps", "scope_bindings", "entity_labels", "roles",
                          "permissions", "entity_shares"),
    (R26_8, "vfolders"): ("association_scopes_entities", "object_permissions", "permissions",
                          "vfolder_attachment"),
    (R26_9, "vfolders"): ("virtual_entities", "entity_memberships", "scope_bindings", "roles",
                          "permissions", "user_roles", "entity_labels"),
    (R26_8, "endpoints"): ("deployment_revisions", "endpoint_tokens", "replica_groups",
                           "deployment_policies", "deployment_auto_scaling_policies",
                           "association_scopes_entities"),
    (R26_9, "endpoints"): ("deployment_revisions", "endpoint_tokens", "replica_groups",
                           "deployment_policies", "deployment_auto_scaling_policies",
                           "virtual_entities", "entity_labels"),
    (R26_9, "audit_logs"): ("audit_log_scopes",),
    (R26_8, "roles"): ("user_roles", "object_permissions"),
    (R26_9, "roles"): ("user_roles", "permissions", "virtual_entities", "entity_labels"),
    (R26_9, "entity_shares"): ("virtual_entities", "entity_memberships"),
    (R26_9, "session_groups"): ("virtual_entities",),
    **{(r, f"{k}_usage_buckets"): ("usage_bucket_entries",)
       for r in (R26_8, R26_9) for k in ("user", "project", "domain")},
}


def cutoff_of(name: str) -> datetime:
    return datetime.now(UTC) - timedelta(days=CUTOFF_DAYS.get(name, DEFAULT_DAYS))


async def ids(conn: AsyncConnection, sql: str, **params: Any) -> set[str]:
    return {str(v) for v in (await conn.execute(sa.text(sql), params)).scalars()}


async def prune_all(db: Database, name: str, before: datetime) -> Any:
    p = await registry.resolve(db, name)
    return await execute(db, sweep(p, before=before, limit=100_000, settings=BIG),
                         settings=BIG)


async def check_no_orphans(conn: AsyncConnection, release: str) -> None:
    """No row names a missing row: every FK (deferred ones checked now) and every RBAC or
    FK-less reference the pack knows."""
    async with conn.begin_nested():
        await conn.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))
        await conn.execute(sa.text(_FK_ORPHANS))
        bad = {}
        for spec in (*pack.ORPHANS[release], *pack.ORPHANS["common"]):
            n = (await conn.execute(pack.orphan_sql(*spec))).scalar()
            if n:
                bad[spec] = n
        await conn.execute(sa.text("SET CONSTRAINTS ALL DEFERRED"))
    assert not bad, f"{release}: rows naming a missing row: {bad}"


@pytest.mark.parametrize("release", (R26_8, R26_9))
async def test_the_seed_starts_without_orphans(rolled_back: Any, release: str) -> None:
    await check_no_orphans(await rolled_back(release), release)


@pytest.mark.parametrize(("release", "name"), CASES, ids=[f"{r}-{n}" for r, n in CASES])
async def test_pruner_deletes_exactly_what_the_platform_facts_say(
        rolled_back: Any, release: str, name: str) -> None:
    conn = await rolled_back(release)
    before = cutoff_of(name)
    for first in BEFORE.get(name, ()):
        await prune_all(conn, first, before)
    pruner = await registry.resolve(conn, name)
    assert pruner.model == release
    expected = await ids(conn, EXPECTED[name], cutoff=before)
    assert len(expected) >= AT_LEAST.get(name, 1), (name, len(expected))

    want_updated: set[str] = set()
    if name in UPDATED:
        want_updated = await ids(conn, UPDATED[name][1],
                                 gone=[uuid.UUID(i) for i in expected])
    await pack.snapshot(conn)
    req = sweep(pruner, before=before, limit=100_000, settings=BIG)
    pv = await preview(conn, req, sample_size=0, blocked_sample=0, settings=BIG)
    result = await execute(conn, req, settings=BIG)
    changes = await pack.compare(conn)

    # exactly the expected rows of the pruned table, and the result says so
    root = pruner.table.name
    gone = await ids(conn, pack.ROOT_GONE, root=root)
    assert gone == expected, (sorted(gone - expected)[:3], sorted(expected - gone)[:3])
    assert {str(i) for i in result.ids} == expected
    assert pv.candidates == result.count == len(expected)
    # per table: preview == result == what changed in the database
    nonzero = {t: n for t, n in result.deleted.items() if n}
    assert changes.deleted == nonzero, (changes.deleted, nonzero)
    assert {t: n for t, n in pv.cascade.items() if n} == nonzero
    assert changes.updated == {t: n for t, n in result.updated.items() if n}
    assert {t: n for t, n in pv.updated.items() if n} == changes.updated
    # every other deleted row names a deleted row; the only changes are declared SET NULLs
    unexplained = (await conn.execute(sa.text(pack.UNEXPLAINED), {"root": root})).all()
    updates = (await conn.execute(sa.text(pack.UPDATES))).all()
    assert not unexplained, unexplained
    updated = {u.id for u in updates}
    assert updated == want_updated, (sorted(updated ^ want_updated)[:3])
    for u in updates:
        assert u.tbl == UPDATED[name][0], (name, u)
        assert len(u.cols) == 1 and u.vals == ["null"] and u.olds[0] in expected, u
    # no orphans anywhere: FK children (the database), RBAC rows and FK-less references
    await check_no_orphans(conn, release)
    for table in TOUCHES.get((release, name), ()):
        assert changes.deleted.get(table), f"{name} on {release} deleted no {table} row"
    print(f"\n{release} {name}: expected {len(expected)}; deleted "
          f"{dict(sorted(changes.deleted.items()))}; updated {changes.updated}")
    # rows kept that name pruned rows (history, usage): counted by the preview
    for m in pruner.mentions:
        target = m.of or root
        named = await ids(conn, f"SELECT x.id FROM {m.table.name} x "  # noqa: S608
                          f"WHERE x.{m.column}::text IN (SELECT g.row ->> 'id' "
                          "FROM pack_test.gone g WHERE g.tbl = :t)", t=target)
        assert pv.mentions[m.label] == len(named), m.label
