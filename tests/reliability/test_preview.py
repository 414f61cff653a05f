"""Honest preview: on random data sets, what the preview promises is exactly what the prune does.

Hypothesis builds small, nasty data sets (every status, timestamp ties, NULL timestamps, blockers
of each kind, dependency edges between any two sessions, RBAC rows pointing both ways and across
entities), picks a cutoff, a limit and cascade_rbac, then checks, with nothing else writing:

* preview.candidates / blocked / blocked_by equal a plain-SQL oracle;
* the histogram adds up to the candidates and the sample is the oldest candidates, in order;
* with or without selected ids (present in any state, or unknown), and a limit or none,
* the rehearsal and the prune that follow (same cutoff, limit, cascade_rbac, ids) delete exactly
  preview.cascade per table, the prune's ids are the sample's, and the tables lose exactly that.

40 data sets per entity by default, 300 under PRUNER_SOAK=full.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from core import execute_pruner, registry, sweep
from core.reference_schema import (
    SESSION_STATUSES,
    VFOLDER_STATUSES,
    association_scopes_entities,
    audit_logs,
    kernels,
    model_cards,
    routings,
    session_dependencies,
    sessions,
    vfolder_permissions,
    vfolders,
)
from tests.reliability.helpers import TRUNCATE_REFERENCE, operations_module, size, table_counts

preview_mod = pytest.importorskip("core.preview")

NOW = datetime.now(UTC).replace(microsecond=0)
DATASETS = settings(max_examples=size(40, 300), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# few distinct ages, so that timestamps tie and the limit often falls inside a tie
known_ages = st.one_of(st.sampled_from([1, 2, 2, 5, 10, 10, 10, 30, 90]).map(float),
                       st.floats(0.001, 120))
ages = st.one_of(st.none(), known_ages, known_ages, known_ages)  # a quarter never stamped
uid = st.uuids(version=4)
# mostly dead rows (the interesting ones), every other status still in the mix
session_status = st.one_of(st.sampled_from(["TERMINATED", "CANCELLED"]),
                           st.sampled_from(["TERMINATED", "CANCELLED"]),
                           st.sampled_from(SESSION_STATUSES))
vfolder_status = st.one_of(st.sampled_from(["delete-complete", "delete-error"]),
                           st.sampled_from(VFOLDER_STATUSES))


def at(age: float | None) -> datetime | None:
    return None if age is None else NOW - timedelta(days=age)


# ------------------------------------------------------------------------------ data sets
@st.composite
def session_world(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    n = draw(st.integers(0, 25) | st.integers(8, 25))
    rows: dict[str, list[dict[str, Any]]] = {t: [] for t in (
        "sessions", "kernels", "routings", "session_dependencies", "rbac")}
    ids = [draw(uid) for _ in range(n)]
    for sid in ids:
        status = draw(session_status)
        ts = at(draw(ages))
        rows["sessions"].append(dict(id=sid, user_uuid=uuid.UUID(int=1), group_id=uuid.UUID(int=2),
                                     status=status, terminated_at=ts))
        for _ in range(draw(st.integers(0, 3))):
            kid = draw(uid)
            kstatus = draw(st.sampled_from([status] * 6 + ["RUNNING", "TERMINATED", "ERROR"]))
            rows["kernels"].append(dict(id=kid, session_id=sid, status=kstatus, terminated_at=ts))
            if draw(st.integers(0, 3)) > 0:
                rows["rbac"].append(dict(scope_type="session", scope_id=str(sid),
                                         entity_type="kernel", entity_id=str(kid)))
        if draw(st.integers(0, 7)) == 0:
            rows["routings"].append(dict(endpoint=uuid.UUID(int=3), session=sid))
        for scope in draw(st.sampled_from([["user", "project"], ["user"], []])):
            rows["rbac"].append(dict(scope_type=scope, scope_id=str(uuid.UUID(int=9)),
                                     entity_type="session", entity_id=str(sid)))
    if ids:
        pairs = draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)),
                              max_size=12, unique=True))
        rows["session_dependencies"] = [dict(session_id=a, depends_on=b) for a, b in pairs
                                        if a != b]
        # RBAC rows that join two sessions (either may be pruned), and look-alike ids under
        # another entity type (must never be touched)
        for a, b in draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)),
                                  max_size=4, unique=True)):
            if a != b:
                rows["rbac"].append(dict(scope_type="session", scope_id=str(a),
                                         entity_type="session", entity_id=str(b)))
        for sid in draw(st.lists(st.sampled_from(ids), max_size=3, unique=True)):
            rows["rbac"].append(dict(scope_type="image", scope_id=str(sid),
                                     entity_type="endpoint", entity_id=str(sid)))
    return rows


@st.composite
def vfolder_world(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {t: [] for t in (
        "vfolders", "vfolder_permissions", "model_cards", "rbac")}
    for i in range(draw(st.integers(0, 20) | st.integers(8, 20))):
        vid = draw(uid)
        rows["vfolders"].append(dict(id=vid, name=f"vf{i}", status=draw(vfolder_status),
                                     status_changed=at(draw(ages))))
        for _ in range(draw(st.integers(0, 3))):
            pid = draw(uid)
            rows["vfolder_permissions"].append(dict(id=pid, vfolder=vid, user=uuid.UUID(int=4)))
            if draw(st.integers(0, 3)) > 0:
                rows["rbac"].append(dict(scope_type="vfolder", scope_id=str(vid),
                                         entity_type="vfolder_permission", entity_id=str(pid)))
        if draw(st.integers(0, 3)) == 0:
            rows["model_cards"].append(dict(name="card", vfolder=vid))
        if draw(st.integers(0, 3)) > 0:
            rows["rbac"].append(dict(scope_type="user", scope_id=str(uuid.UUID(int=4)),
                                     entity_type="vfolder", entity_id=str(vid)))
    return rows


@st.composite
def log_world(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    return {"audit_logs": [dict(created_at=at(a), actor="u", action="x")
                           for a in draw(st.lists(known_ages, max_size=40))]}


TABLES = {"sessions": sessions, "kernels": kernels, "routings": routings,
          "session_dependencies": session_dependencies, "rbac": association_scopes_entities,
          "vfolders": vfolders, "vfolder_permissions": vfolder_permissions,
          "model_cards": model_cards, "audit_logs": audit_logs}
ORDER = ["sessions", "kernels", "routings", "session_dependencies", "vfolders",
         "vfolder_permissions", "model_cards", "rbac", "audit_logs"]


async def load(engine: AsyncEngine, world: dict[str, list[dict[str, Any]]]) -> None:
    async with engine.begin() as conn:
        await conn.execute(sa.text(TRUNCATE_REFERENCE))
        for name in ORDER:
            if world.get(name):
                await conn.execute(sa.insert(TABLES[name]), world[name])


# ------------------------------------------------------------------------------ the oracle
ORACLE = {
    # (terminal and aged, blocked) per entity, in plain SQL
    "sessions": ("status IN ('TERMINATED', 'CANCELLED') AND terminated_at < :before",
                 "EXISTS (SELECT 1 FROM routings r WHERE r.session = t.id) OR EXISTS (SELECT 1 "
                 "FROM kernels k WHERE k.session_id = t.id AND k.status NOT IN "
                 "('TERMINATED', 'CANCELLED'))", "terminated_at"),
    "vfolders": ("status IN ('delete-complete', 'delete-error') AND status_changed < :before",
                 "EXISTS (SELECT 1 FROM model_cards m WHERE m.vfolder = t.id)", "status_changed"),
    "audit_logs": ("created_at < :before", "false", "created_at"),
}


async def oracle(engine: AsyncEngine, entity: str, before: datetime,
                 ids: list[str] | None = None) -> tuple[list[str], int]:
    aged, blocked, ts = ORACLE[entity]
    if ids is not None:
        aged += " AND t.id::text = ANY(CAST(:ids AS text[]))"
    params = {"before": before, "ids": ids}
    async with engine.connect() as conn:
        cands = [r[0] for r in await conn.execute(sa.text(
            # t.id, not id: a bare name in ORDER BY would sort by the text output column
            f"SELECT t.id::text FROM {entity} t WHERE {aged} AND NOT ({blocked}) "  # noqa: S608
            f"ORDER BY t.{ts}, t.id"), params)]
        n_blocked = (await conn.execute(sa.text(
            f"SELECT count(*) FROM {entity} t WHERE {aged} AND ({blocked})"),  # noqa: S608
            params)).scalar_one()
    return cands, n_blocked


async def pick_ids(engine: AsyncEngine, entity: str, data: st.DataObject) -> list[Any] | None:
    """No selection, or some of the table's ids (any state) plus ids that do not exist."""
    if not data.draw(st.booleans(), label="select ids"):
        return None
    async with engine.connect() as conn:
        present = [r[0] for r in await conn.execute(sa.text(
            f"SELECT id FROM {entity} ORDER BY id"))]  # noqa: S608
    unknown = st.uuids() if entity != "audit_logs" else st.integers(10**9, 2**62)
    chosen = data.draw(st.lists(st.sampled_from(present), max_size=12) if present
                       else st.just([]), label="ids")
    chosen += data.draw(st.lists(unknown, max_size=2), label="unknown ids")
    return chosen or None


# ------------------------------------------------------------------------------ the property
async def preview_then_prune(engine: AsyncEngine, entity: str, world: dict[str, Any],
                             cutoff_age: float, data: st.DataObject, cascade_rbac: bool) -> None:
    await load(engine, world)
    pruner = registry.get(entity)
    before = NOW - timedelta(days=cutoff_age)
    ids = await pick_ids(engine, entity, data)
    wanted = None if ids is None else list(dict.fromkeys(str(i) for i in ids))
    cands, n_blocked = await oracle(engine, entity, before, wanted)
    # a limit around the number of candidates, so that it often falls inside them; None is the
    # default (1,000, or the number of selected ids)
    limit = data.draw(st.one_of(st.integers(1, max(1, len(cands) - 1)),
                                st.integers(1, max(1, len(cands) - 1)),
                                st.integers(1, len(cands) + 2), st.none()), label="limit")
    effective = limit or (len(wanted) if wanted else 1_000)
    args: dict[str, Any] = dict(before=before, limit=limit, cascade_rbac=cascade_rbac, ids=ids)
    pv = await preview_mod.preview(engine, sweep(pruner, **args),
                                   sample_size=min(effective, 1_000))
    assert pv.candidates == len(cands) and pv.blocked == n_blocked
    assert sum(pv.blocked_by.values()) >= pv.blocked
    assert sum(b.count for b in pv.histogram) == pv.candidates
    key = pruner.key[0].name
    assert [str(r[key]) for r in pv.sample] == cands[:effective]
    assert pv.would_delete == min(effective, len(cands))
    event(f"limit cuts the candidates: {0 < effective < len(cands)}")
    event(f"some blocked: {pv.blocked > 0}")
    event(f"rbac rows deleted: {pv.cascade.get('association_scopes_entities', 0) > 0}")
    event(f"selected ids: {ids is not None}")

    ops = operations_module()
    if ops is not None:
        rehearsal = await ops.rehearse(engine, sweep(pruner, **args), operator="preview-test")
        assert rehearsal.deleted == pv.cascade
    async with engine.connect() as conn:
        counts_before = await table_counts(conn)
    result = await execute_pruner(engine, pruner, **args)
    async with engine.connect() as conn:
        counts_after = await table_counts(conn)
    assert result.deleted == pv.cascade, (result.deleted, pv.cascade)
    assert [str(i) for i in result.ids] == cands[:effective]
    for table, n in pv.cascade.items():
        assert counts_before[table] - counts_after[table] == n, table
    untouched = set(counts_before) - set(pv.cascade)
    assert all(counts_before[t] == counts_after[t] for t in untouched)


cutoffs = st.sampled_from([0.0, 0.0, 0.0005, 1.0, 2.0, 5.0, 10.0, 30.0, 1000.0]) | st.floats(0, 150)


@DATASETS
@given(world=session_world(), cutoff_age=cutoffs, data=st.data(), cascade_rbac=st.booleans())
async def test_session_preview_is_what_the_prune_does(
    engine: AsyncEngine, world: dict[str, Any], cutoff_age: float, data: st.DataObject,
    cascade_rbac: bool
) -> None:
    await preview_then_prune(engine, "sessions", world, cutoff_age, data, cascade_rbac)


@DATASETS
@given(world=vfolder_world(), cutoff_age=cutoffs, data=st.data(), cascade_rbac=st.booleans())
async def test_vfolder_preview_is_what_the_prune_does(
    engine: AsyncEngine, world: dict[str, Any], cutoff_age: float, data: st.DataObject,
    cascade_rbac: bool
) -> None:
    await preview_then_prune(engine, "vfolders", world, cutoff_age, data, cascade_rbac)


@DATASETS
@given(world=log_world(), cutoff_age=cutoffs, data=st.data())
async def test_log_preview_is_what_the_prune_does(
    engine: AsyncEngine, world: dict[str, Any], cutoff_age: float, data: st.DataObject
) -> None:
    await preview_then_prune(engine, "audit_logs", world, cutoff_age, data, True)
