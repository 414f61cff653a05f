"""One declaration per model, and what each needs from a database (`Pruner.requires`).

`registry.resolve(db, name)` takes the first declaration whose `requires` all exist in the live
catalog. The requirements are derived from the declaration itself — every table it names and
every column it declares or reads — plus the model's marker, so exactly one model fits a
database of a supported release, and a database that fits none is refused with one line naming
what each model misses, before any statement that writes:

    modelled   audit_logs.actor (our reference schema; no real release has it)
    26.8       retention_policies, object_permissions   (26.9 dropped object_permissions)
    26.9       retention_policies, virtual_entities, entity_labels   (new in 26.9)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import iterate

from core.backendai.facts import MODELLED, R26_8, R26_9
from core.backendai.schema import SCHEMAS, Schema
from core.db import Database, transaction
from core.repository.pruner import Pruner
from core.repository.pruner.catalog import existing


@dataclass(frozen=True)
class Model:
    name: str
    marker: tuple[str, ...]  # tables / table.columns only this model has


MODELS: dict[str, Model] = {
    MODELLED: Model(MODELLED, ("audit_logs.actor",)),
    R26_8: Model(R26_8, ("retention_policies", "object_permissions")),
    R26_9: Model(R26_9, ("retention_policies", "virtual_entities", "entity_labels")),
}
RELEASES = (R26_9, R26_8)  # newest first


def _columns_of(cond: ColumnElement[Any] | None) -> Iterable[sa.Column[Any]]:
    if cond is None:
        return ()
    return [e for e in iterate(cond) if isinstance(e, sa.Column)]


def requirements(p: Pruner, model: Model) -> tuple[str, ...]:
    """The model's marker, then every table the declaration names and every column of it that
    the declaration declares or reads, as "table" and "table.column"."""
    tables: dict[str, set[str]] = {}

    def add(table: sa.Table, cols: Iterable[str]) -> None:
        tables.setdefault(table.name, set()).update(cols)

    for t in (p.table, *(c.table for c in p.children), *(b.table for b in p.blockers),
              *(s.table for s in p.set_null), *(link.table for link in p.links),
              *(m.table for m in p.mentions)):
        add(t, t.c.keys())
    conds = [p.terminal, *(c.where for c in p.children), *(b.where for b in p.blockers)]
    for cond in conds:
        for col in _columns_of(cond):
            if isinstance(col.table, sa.Table):
                add(col.table, [col.name])
    out = list(model.marker)
    for name in sorted(tables):
        out.append(name)
        out += [f"{name}.{c}" for c in sorted(tables[name])]
    return tuple(dict.fromkeys(out))


def variant(model: str, **declaration: Any) -> Pruner:
    """The Pruner of `declaration` for `model`, with its requirements and model name."""
    m = MODELS[model]
    # 26.9's graph has cycles (a node -> roles scoped to it -> the roles' nodes -> …): one turn
    # reaches the nodes of the roles and shares that go with the entity, which is all the
    # platform's own teardown finds; each further turn multiplies the plan's size.
    declaration.setdefault("max_repeat", 1)
    p = Pruner(**declaration)
    return dataclasses.replace(p, requires=requirements(p, m), model=m.name)


def per_release(declare: Callable[[Schema], Pruner | None]) -> tuple[Pruner, ...]:
    """`declare(schema)` for each real release, newest first (None: not in that release)."""
    out = []
    for release in RELEASES:
        p = declare(SCHEMAS[release])
        if p is not None:
            out.append(p)
    return tuple(out)




async def model_of(db: Database) -> str | None:
    """The model whose marker this database has (26.9, then 26.8, then modelled), or None.

    An entity with no declaration for that model is not part of this database (e.g. 26.8's
    invitations on a 26.9 database) — not a failure; `registry.resolve` still decides, table by
    table, whether a declaration fits."""
    items = sorted({m for model in MODELS.values() for m in model.marker})
    async with transaction(db, "reading which Backend.AI model this database holds") as conn:
        found = await existing(conn, items)
    for name in (*RELEASES, MODELLED):
        if all(found.get(m) for m in MODELS[name].marker):
            return name
    return None
