"""Small, explicit test data for the reference schema (bulk data comes from core.demo)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from core.reference_schema import (
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

NOW = datetime.now(UTC)
USER = uuid.UUID("00000000-0000-4000-8000-000000000001")
PROJECT = uuid.UUID("00000000-0000-4000-9000-000000000001")


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


async def add_session(db: AsyncEngine, *, status: str = "TERMINATED", age_days: float | None = 30,
                      kernels_n: int = 2, kernel_status: str | None = None, rbac: bool = True,
                      routed: bool = False) -> uuid.UUID:
    """One session with its kernels, RBAC rows (both directions) and optionally a routing."""
    sid = uuid.uuid4()
    ts = None if age_days is None else days_ago(age_days)
    async with db.begin() as conn:
        await conn.execute(sa.insert(sessions).values(
            id=sid, name=f"s-{sid.hex[:6]}", user_uuid=USER, group_id=PROJECT, status=status,
            terminated_at=ts))
        kids = [uuid.uuid4() for _ in range(kernels_n)]
        for kid in kids:
            await conn.execute(sa.insert(kernels).values(
                id=kid, session_id=sid, status=kernel_status or status, terminated_at=ts))
        if rbac:
            rows: list[dict[str, Any]] = [
                dict(scope_type="user", scope_id=str(USER), entity_type="session",
                     entity_id=str(sid)),
                dict(scope_type="project", scope_id=str(PROJECT), entity_type="session",
                     entity_id=str(sid)),
            ] + [dict(scope_type="session", scope_id=str(sid), entity_type="kernel",
                      entity_id=str(k)) for k in kids]
            await conn.execute(sa.insert(association_scopes_entities), rows)
        if routed:
            await conn.execute(sa.insert(routings).values(endpoint=uuid.uuid4(), session=sid))
    return sid


async def add_dependency(db: AsyncEngine, session_id: uuid.UUID, depends_on: uuid.UUID) -> None:
    async with db.begin() as conn:
        await conn.execute(sa.insert(session_dependencies).values(
            session_id=session_id, depends_on=depends_on))


async def add_vfolder(db: AsyncEngine, *, status: str = "delete-complete", age_days: float = 30,
                      card: bool = False) -> uuid.UUID:
    vid = uuid.uuid4()
    async with db.begin() as conn:
        await conn.execute(sa.insert(vfolders).values(
            id=vid, name=f"vf-{vid.hex[:6]}", user=USER, status=status,
            status_changed=days_ago(age_days)))
        await conn.execute(sa.insert(vfolder_permissions).values(vfolder=vid, user=USER))
        await conn.execute(sa.insert(association_scopes_entities).values(
            scope_type="user", scope_id=str(USER), entity_type="vfolder", entity_id=str(vid)))
        if card:
            await conn.execute(sa.insert(model_cards).values(name="card", vfolder=vid))
    return vid


async def add_logs(db: AsyncEngine, ages_days: list[float]) -> None:
    async with db.begin() as conn:
        await conn.execute(sa.insert(audit_logs), [
            dict(created_at=days_ago(a), actor="u", action="login") for a in ages_days])


async def count(db: AsyncEngine, table: sa.Table, where: Any = None) -> int:
    q = sa.select(sa.func.count()).select_from(table)
    if where is not None:
        q = q.where(where)
    async with db.connect() as conn:
        return (await conn.execute(q)).scalar_one()


async def snapshot(db: AsyncEngine) -> dict[str, list[tuple]]:
    """Every row of every reference table, for 'nothing changed' assertions."""
    from core.reference_schema import metadata

    out = {}
    async with db.connect() as conn:
        for t in metadata.sorted_tables:
            rows = (await conn.execute(sa.select(t))).all()
            out[t.name] = sorted(tuple(map(str, r)) for r in rows)
    return out
