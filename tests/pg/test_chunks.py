"""A parent too big for one statement, pruned on request in child chunks (issue 11, item 3):
the chunks delete exactly what one prune would, each chunk is its own journaled run, the parent
goes last; a parent that stops qualifying midway stops the chunked prune with what the committed
chunks deleted; bad requests change nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from core import errors, journal, operations, registry, sweep
from core.chunks import ChunksCommitted, prune_in_chunks
from core.reference_schema import association_scopes_entities, kernels, sessions
from tests.factories import add_dependency, add_session, count, snapshot

SESSIONS = registry.get("sessions")


def now() -> datetime:
    return datetime.now(UTC)


async def test_children_in_chunks_then_the_parent_delete_what_one_prune_would(db):
    big = await add_session(db, age_days=40, kernels_n=25)
    other = await add_session(db, age_days=30)
    await add_dependency(db, big, other)
    req = sweep(SESSIONS, before=now(), ids=[big])
    rehearsal = await operations.rehearse(db, req, operator="t")
    r = await prune_in_chunks(db, req, chunk_size=10, operator="t", reason="too big")
    assert r.deleted == {t: n for t, n in rehearsal.deleted.items() if n}
    assert r.final is not None and r.final.ids == [big]
    # kernels 10 + 10 + 5, then RBAC rows, dependency edges (each table right under it)
    chunk_runs = [run for run in await journal.history(db, limit=50) if run.kind == "chunk"]
    assert len(chunk_runs) == len(r.chunks) >= 3
    assert sorted(run.deleted.get("kernels", 0) for run in chunk_runs
                  if run.deleted.get("kernels"))[-3:] == [5, 10, 10]
    assert all(run.count == 0 and run.reason == "too big" for run in chunk_runs)
    assert await count(db, sessions) == 1 and await count(db, kernels) == 2
    assert await count(db, association_scopes_entities, association_scopes_entities.c.entity_id
                       == str(big)) == 0


async def test_a_parent_that_comes_back_to_life_stops_the_chunks(db):
    big = await add_session(db, age_days=40, kernels_n=30)
    req = sweep(SESSIONS, before=now(), ids=[big])

    async def revive(progress):  # after the first chunk, the platform starts one kernel again
        async with db.begin() as conn:
            await conn.execute(sa.update(kernels).where(
                kernels.c.id == sa.select(kernels.c.id).where(kernels.c.session_id == big)
                .limit(1).scalar_subquery()).values(status="RUNNING"))

    with pytest.raises(ChunksCommitted, match="no longer qualifies") as info:
        await prune_in_chunks(db, req, chunk_size=10, operator="t", progress=revive)
    assert "1 chunk run(s) committed" in str(info.value) and "kernels: 10" in str(info.value)
    assert info.value.result.deleted == {"kernels": 10, "association_scopes_entities": 10}
    assert await count(db, sessions) == 1 and await count(db, kernels) == 20


async def test_a_chunked_prune_refuses_what_it_cannot_do_and_changes_nothing(db):
    a = await add_session(db, age_days=40)
    b = await add_session(db, age_days=40, routed=True)
    before = await snapshot(db)
    with pytest.raises(errors.InvalidArgument, match="exactly one parent"):
        await prune_in_chunks(db, sweep(SESSIONS, before=now(), ids=[a, b]), operator="t")
    with pytest.raises(errors.InvalidArgument, match="chunk_size"):
        await prune_in_chunks(db, sweep(SESSIONS, before=now(), ids=[a]), chunk_size=0,
                              operator="t")
    with pytest.raises(errors.PruneFailed, match="no longer qualifies") as info:
        await prune_in_chunks(db, sweep(SESSIONS, before=now(), ids=[b]), operator="t")
    assert not isinstance(info.value, ChunksCommitted)  # nothing was committed
    assert await snapshot(db) == before
