"""The SQL of a sweep, built with SQLAlchemy Core from a `SweepRequest`; nothing here executes.

    WITH cand AS (SELECT pk, ts FROM t WHERE <terminal> AND ts < :before AND NOT <blocked>
                  ORDER BY ts, pk LIMIT :limit FOR UPDATE OF t SKIP LOCKED),
         del_child_0 AS (DELETE FROM child WHERE fk = ANY(array(SELECT id FROM cand)) …),
         del_rbac AS (DELETE FROM association_scopes_entities WHERE <both directions>),
         del_parent AS (DELETE FROM t WHERE pk = ANY(array(SELECT id FROM cand)) RETURNING …)
    SELECT array_agg(ids ORDER BY ts, pk), counts…

The prune statement and the preview's cascade counts come from one walk over the declaration
(`_walk`): the same predicates, once as DELETEs and once as COUNTs. Ids never travel as one bind
parameter each (asyncpg caps a statement at 32,767): selected ids are bound as one array.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

from core.reference_schema import association_scopes_entities as rbac
from core.repository.base import single_key
from core.repository.pruner.declaration import Blocker, Child, Pruner
from core.repository.pruner.request import SweepRequest
from core.settings import PruneSettings


@dataclass(frozen=True)
class ArchiveTarget:
    """Where a prune copies the full rows it deletes, in the same statement: `table` has the
    columns run_id (bigint), entity_id (text) and row (jsonb); `run_id` is the run they go with."""

    table: sa.Table
    run_id: int


# ------------------------------------------------------------------------------ predicates
def references(child: Child, keys: ColumnElement[Any]) -> ColumnElement[bool]:
    """Rows of `child` pointing at any of `keys` (an array expression) through any FK column.

    `= ANY(array)` plans as one bitmap index scan per column, visiting each heap page once;
    `IN (SELECT …)` would be a semi-join per table, and an OR of two IN lists a full scan."""
    return sa.or_(*(child.table.c[c] == sa.any_(keys) for c in child.on))


def blocks(blocker: Blocker, key: ColumnElement[Any]) -> ColumnElement[bool]:
    """EXISTS a row of the blocker table that keeps the parent `key`."""
    cond = blocker.table.c[blocker.on] == key
    if blocker.where is not None:
        cond = sa.and_(cond, blocker.where)
    return sa.exists().where(cond)


def not_blocked(p: Pruner) -> list[ColumnElement[bool]]:
    """One NOT EXISTS per blocker, to be ANDed: PostgreSQL turns each into an anti-join on the
    blocker's FK index. NOT (a OR b) would become a hashed subplan that reads every blocker
    table whole on every call, however small the prune."""
    return [sa.not_(blocks(b, p.key)) for b in p.blockers]


def cutoff_param(req: SweepRequest) -> sa.BindParameter[Any]:
    p, before = req.pruner, req.before
    if not getattr(p.ts.type, "timezone", False):
        before = before.astimezone(UTC).replace(tzinfo=None)  # a naive column holds UTC
    return sa.bindparam("before", before, type_=p.ts.type)


def aged(req: SweepRequest) -> ColumnElement[bool]:
    """Terminal and older than the cutoff (NULL timestamps never compare true), and one of the
    request's ids when it names some."""
    p = req.pruner
    cond = sa.and_(p.terminal, p.ts < cutoff_param(req))
    if req.ids is not None:
        ids = sa.bindparam("ids", list(req.ids), type_=ARRAY(p.key.type))
        cond = sa.and_(cond, p.key == sa.any_(ids))
    return cond


def candidates(req: SweepRequest, *, limited: bool = True) -> sa.Select[Any]:
    """Oldest-first candidates (`id`, `ts`): terminal, older than `before`, not blocked."""
    p = req.pruner
    q = (sa.select(p.key.label("id"), p.ts.label("ts"))
         .where(aged(req), *not_blocked(p)).order_by(p.ts, p.key))
    return q.limit(sa.bindparam("limit", req.limit, type_=sa.Integer)) if limited else q


def rbac_match(p: Pruner, keys_text: ColumnElement[Any] | None,
               child_keys_text: dict[str, ColumnElement[Any]]) -> ColumnElement[bool] | None:
    """RBAC rows of the pruned parents and children, where they are the entity or the scope.

    `keys_text` / values of `child_keys_text` are text[] expressions of the pruned ids, compared
    as text because that is how the association table stores them."""
    pairs = []
    if keys_text is not None and p.rbac_entity_type:
        pairs.append((p.rbac_entity_type, keys_text))
    pairs.extend(child_keys_text.items())
    arms: list[ColumnElement[bool]] = []
    for etype, ids in pairs:
        arms.append(sa.and_(rbac.c.entity_type == etype, rbac.c.entity_id == sa.any_(ids)))
        arms.append(sa.and_(rbac.c.scope_type == etype, rbac.c.scope_id == sa.any_(ids)))
    return sa.or_(*arms) if arms else None


def id_array(col: ColumnElement[Any], source: sa.FromClause) -> ColumnElement[Any]:
    return sa.func.array(sa.select(col).select_from(source).scalar_subquery())


def text_ids_once(col: ColumnElement[Any], source: sa.FromClause, name: str,
                  ) -> ColumnElement[Any]:
    """The ids as one text[], built once in a CTE: the RBAC delete uses it twice (entity and
    scope), and at a million ids casting and collecting them twice is a second of work."""
    ids = sa.select(sa.func.array(sa.select(sa.cast(col, sa.Text)).select_from(source)
                                  .scalar_subquery()).label("a")).cte(name)
    return sa.cast(sa.select(ids.c.a).scalar_subquery(), ARRAY(sa.Text))


# ------------------------------------------------------------------------------ the walk
# One step of the walk: (table, which rows, key to hand on or None, a name) -> (how many rows,
# the handed-on keys as (column, source) or None).
Act = Callable[[sa.Table, ColumnElement[bool], "sa.Column[Any] | None", str],
               tuple[ColumnElement[Any], "tuple[ColumnElement[Any], sa.FromClause] | None"]]


def _deleting(table: sa.Table, where: ColumnElement[bool], key: sa.Column[Any] | None,
              name: str) -> tuple[ColumnElement[Any], tuple[ColumnElement[Any], sa.FromClause]
                                  | None]:
    ret = key.label("k") if key is not None else sa.literal(1).label("k")
    d = sa.delete(table).where(where).returning(ret).cte(f"del_{name}")
    n = sa.select(sa.func.count()).select_from(d).scalar_subquery()
    return n, ((d.c.k, d) if key is not None else None)


def _counting(table: sa.Table, where: ColumnElement[bool], key: sa.Column[Any] | None,
              name: str) -> tuple[ColumnElement[Any], tuple[ColumnElement[Any], sa.FromClause]
                                  | None]:
    n = sa.select(sa.func.count()).select_from(table).where(where).scalar_subquery()
    if key is None:
        return n, None
    sq = sa.select(key).where(where).subquery(f"keys_{name}")
    return n, (sq.c[0], sq)


def _walk(req: SweepRequest, cand: sa.CTE, act: Act) -> dict[str, ColumnElement[Any]]:
    """Rows per dependent table (children, then RBAC) of the candidates in `cand`."""
    p = req.pruner
    cand_ids = id_array(cand.c.id, cand)
    counts: dict[str, ColumnElement[Any]] = {}
    child_keys_text: dict[str, ColumnElement[Any]] = {}
    for i, child in enumerate(p.children):
        key = single_key(child.table) if child.rbac_entity_type and req.cascade_rbac else None
        counts[child.table.name], keys = act(child.table, references(child, cand_ids), key,
                                             f"child_{i}")
        if keys is not None and child.rbac_entity_type:
            child_keys_text[child.rbac_entity_type] = text_ids_once(*keys, f"txt_{i}")
    if req.cascade_rbac:
        match = rbac_match(p, text_ids_once(cand.c.id, cand, "txt_cand"), child_keys_text)
        if match is not None:
            counts[rbac.name], _ = act(rbac, match, None, "rbac")
    return counts


def prune_statement(req: SweepRequest, archive: ArchiveTarget | None = None,
                    ) -> tuple[sa.Select[Any], list[str]]:
    """The single statement of a prune, and the tables whose counts follow `ids` in its row
    (and `archived` before them when archiving)."""
    p = req.pruner
    cand = candidates(req).with_for_update(of=p.table, skip_locked=True).cte("cand")
    counts = _walk(req, cand, _deleting)
    # Full rows come back only when they are archived; otherwise just what the result needs.
    returned = p.table.c if archive is not None else (p.key, p.ts)
    parent = (sa.delete(p.table).where(p.key == sa.any_(id_array(cand.c.id, cand)))
              .returning(*returned).cte("del_parent"))
    pk, ts = parent.c[p.key.name], parent.c[p.timestamp]
    cols: list[ColumnElement[Any]] = [
        sa.select(sa.func.array_agg(aggregate_order_by(pk, ts, pk))).select_from(parent)
        .scalar_subquery().label("ids"),
    ]
    if archive is not None:
        arch = (sa.insert(archive.table).from_select(
            ["run_id", "entity_id", "row"],
            sa.select(sa.literal(archive.run_id, sa.BigInteger), sa.cast(pk, sa.Text),
                      sa.func.to_jsonb(parent.table_valued())).select_from(parent),
        ).returning(sa.literal(1).label("k")).cte("archived"))
        cols.append(sa.select(sa.func.count()).select_from(arch).scalar_subquery()
                    .label("archived"))
    cols += [c.label(f"n_{i}") for i, c in enumerate(counts.values())]
    return sa.select(*cols), list(counts)


def cascade_counts(req: SweepRequest) -> tuple[sa.Select[Any], list[str]]:
    """Per-table counts of what a prune of the first `limit` candidates deletes — the prune's own
    walk, as SELECTs — and the table names in the order of the row's columns."""
    p = req.pruner
    cand = candidates(req).cte("cand").prefix_with("MATERIALIZED")
    counts = {p.table.name: sa.select(sa.func.count()).select_from(cand).scalar_subquery(),
              **_walk(req, cand, _counting)}
    return (sa.select(*(c.label(f"n_{i}") for i, c in enumerate(counts.values()))),
            list(counts))


def local_settings(s: PruneSettings) -> sa.Select[Any]:
    """SET LOCAL the timeouts (bound values via set_config; they end with the transaction).

    JIT is switched off too: our statements are index-driven and short, and the planner's cost
    estimates for LIMITed scans behind anti-joins routinely trip the JIT threshold, which then
    spends more time compiling than the query takes."""
    return sa.select(sa.func.set_config("lock_timeout", str(s.lock_timeout_ms), True),
                     sa.func.set_config("statement_timeout", str(s.statement_timeout_ms), True),
                     sa.func.set_config("jit", "off", True))
