"""Plans on a live database: read the catalogs a pruner needs, build its plan, keep it.

A plan is cached per engine and pruner, with the fingerprint of every catalog row it was built
from; `current_plan` checks that fingerprint with one small query inside the caller's
transaction, so a prune always runs the plan of the catalog it sees, and re-reads the catalog
only when something moved (or after `forget`).
"""

from __future__ import annotations

import weakref

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection

from core.repository.pruner.builder import build_plan
from core.repository.pruner.catalog import Catalog, digest, read_catalog
from core.repository.pruner.declaration import Pruner
from core.repository.pruner.plan import Plan

_plans: weakref.WeakKeyDictionary[Engine, dict[int, tuple[Plan, list[int], str]]] = \
    weakref.WeakKeyDictionary()


async def read_plan(conn: AsyncConnection, pruner: Pruner) -> tuple[Plan, list[int]]:
    """A fresh plan, and the oids of every table its catalogs cover."""
    catalogs: dict[str, Catalog] = {"": await read_catalog(conn, pruner.table)}
    for link in pruner.links:
        if link.table.name not in catalogs:
            catalogs[link.table.name] = await read_catalog(conn, link.table)
    oids = sorted({o for c in catalogs.values() for o in c.oids})
    return build_plan(pruner, catalogs), oids


async def current_plan(conn: AsyncConnection, pruner: Pruner) -> Plan:
    """The plan of `pruner` as the catalog stands in `conn`'s transaction (cached)."""
    per_engine = _plans.setdefault(conn.sync_engine, {})
    cached = per_engine.get(id(pruner))
    if cached is not None:
        plan, oids, fingerprint = cached
        if plan.pruner is pruner and await digest(conn, oids) == fingerprint:
            return plan
    plan, oids = await read_plan(conn, pruner)
    per_engine[id(pruner)] = (plan, oids, await digest(conn, oids))
    return plan


def forget(conn: AsyncConnection) -> None:
    """Drop the cached plans of this connection's engine (after a catalog-shaped failure)."""
    _plans.pop(conn.sync_engine, None)
