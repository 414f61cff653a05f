"""The locking statements of a prune beyond its candidates: `classify` (every row of the tree
locked with SKIP LOCKED, naming the parents with a row held elsewhere) and `family` (the
descendants of self-referencing parents, locked with them). The walk they share is in
`statements`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

from core.repository.pruner.conditions import retarget
from core.repository.pruner.plan import Plan, Step
from core.repository.pruner.request import SweepRequest
from core.repository.pruner.statements import (
    TEXT_TYPES,
    Rows,
    bound_keys,
    walk,
)


def _alias(table: sa.Table, name: str) -> Any:
    return table.alias(name)


def classify_statement(plan: Plan, req: SweepRequest, roots: Sequence[str]) -> sa.Select[Any]:
    """Lock (SKIP LOCKED) every row the prune of `roots` would delete or update. Returns how
    many parents have a row held elsewhere (`busy`) and the others, in their order, as one text
    array per key column (`keep_0`, …; NULL when none is left)."""
    keys = bound_keys(plan, roots)
    k = len(plan.key)
    carried = [f"__r{i}" for i in range(k)]
    u = sa.func.unnest(*keys).table_valued(*carried, with_ordinality="ord").render_derived()
    a0 = sa.select(*(u.c[r].label(c) for r, c in zip(carried, plan.key, strict=True)),
                   *(u.c[r] for r in carried), u.c.ord).cte("a_0")
    busy: list[sa.Select[Any]] = []

    def lock(tag: str, table: sa.Table, prow: Rows, on: ColumnElement[bool] | None,
             cols: Sequence[str], where: ColumnElement[bool] | None, t: sa.FromClause,
             ) -> sa.CTE:
        src = prow.source
        assert src is not None
        q = (sa.select(sa.literal_column(f"c_{tag}.ctid").label("tid"),
                       *(src.c[r] for r in carried),
                       *(t.c[c] for c in cols if c not in carried))
             .select_from(t.join(src, on if on is not None else sa.true())))
        if where is not None:
            q = q.where(retarget(where, table, t))
        a = q.cte(f"a_{tag}")
        lt = table.alias(f"l_{tag}")
        tid: ColumnElement[Any] = sa.literal_column(f"l_{tag}.ctid")
        held = (sa.select(tid.label("tid")).select_from(lt)
                .where(tid == sa.any_(sa.func.array(sa.select(a.c.tid).scalar_subquery())))
                .with_for_update(skip_locked=True).cte(f"l_{tag}"))
        busy.append(sa.select(*(a.c[r] for r in carried))
                    .where(a.c.tid.not_in(sa.select(held.c.tid))))
        return a

    def act(step: Step, prow: Rows, cols: list[str]) -> Rows:
        t = _alias(step.table, f"c_{step.index}")
        src = prow.source
        assert src is not None
        if step.kind == "link":
            ref = src.c[step.ref_columns[0]]
            text = step.facts.column_type(step.columns[0]).startswith(TEXT_TYPES)
            on = t.c[step.columns[0]] == (sa.cast(ref, sa.Text) if text else ref)
        else:
            on = sa.and_(*(t.c[c] == src.c[r]
                           for c, r in zip(step.columns, step.ref_columns, strict=True)))
        return Rows(lock(str(step.index), step.table, prow, on, cols, step.where, t))

    rows = walk(plan, req, Rows(a0), act)
    for j, n in enumerate(plan.nullify):
        prow = rows.get(n.step)
        if prow is None or prow.source is None:
            continue
        t = _alias(n.table, f"c_n{j}")
        on = sa.and_(*(t.c[c] == prow.source.c[r]
                       for c, r in zip(n.columns, n.ref_columns, strict=True)))
        lock(f"n{j}", n.table, prow, on, [], None, t)
    every = (sa.union(*busy) if len(busy) > 1 else busy[0]).subquery("busy") if busy else None
    held: ColumnElement[bool] = (
        sa.tuple_(*(a0.c[r] for r in carried)).in_(sa.select(*(every.c[r] for r in carried)))
        if every is not None else sa.false())
    keep = sa.select(*(sa.cast(sa.func.array_agg(aggregate_order_by(a0.c[r], a0.c.ord)),
                               sa.Text).label(f"keep_{i}") for i, r in enumerate(carried))
                     ).where(sa.not_(held)).scalar_subquery() if k == 1 else None
    cols: list[ColumnElement[Any]] = [
        sa.select(sa.func.count()).select_from(a0).where(held).scalar_subquery().label("busy")]
    if keep is not None:
        cols.append(keep.label("keep_0"))
    else:
        for i, r in enumerate(carried):
            cols.append(sa.select(sa.cast(sa.func.array_agg(aggregate_order_by(
                a0.c[r], a0.c.ord)), sa.Text)).where(sa.not_(held)).scalar_subquery()
                .label(f"keep_{i}"))
    return sa.select(*cols)


# ------------------------------------------------------------------------------ families
def family_statement(plan: Plan, roots: Sequence[str]) -> sa.Select[Any]:
    """The locked parents and, through the self-referencing FK, all their descendants, locked
    too (SKIP LOCKED). A parent any of whose descendants is held elsewhere is left out with
    its family. Returns `n` (rows in all), `busy` (parents left out) and the keys (`k0`, …,
    one text array per key column, parents in their order then their descendants)."""
    fk = plan.family
    assert fk is not None
    t = plan.pruner.table
    key = [t.c[c] for c in plan.key]
    keys = bound_keys(plan, roots)
    r = [f"__r{i}" for i in range(len(key))]
    u = sa.func.unnest(*keys).table_valued(*r, with_ordinality="ord").render_derived()
    start = sa.select(*(u.c[x] for x in r), u.c.ord).cte("fam_roots")
    child = t.alias("fam_c")
    first = (sa.select(*(start.c[x] for x in r), *(child.c[c] for c in plan.key))
             .select_from(child.join(start, sa.and_(*(
                 child.c[c] == start.c[f"__r{plan.key.index(ref)}"]
                 for c, ref in zip(fk.columns, fk.ref_columns, strict=True))))))
    down = first.cte("fam_down", recursive=True)
    nxt = t.alias("fam_n")
    down = down.union(sa.select(*(down.c[x] for x in r), *(nxt.c[c] for c in plan.key))
                      .select_from(nxt.join(down, sa.and_(*(
                          nxt.c[c] == down.c[ref] for c, ref in zip(fk.columns, fk.ref_columns,
                                                                    strict=True))))))
    held_t = t.alias("fam_l")
    locked = (sa.select(*(held_t.c[c] for c in plan.key)).where(
        sa.tuple_(*(held_t.c[c] for c in plan.key)).in_(
            sa.select(*(down.c[c] for c in plan.key))))
        .with_for_update(skip_locked=True).cte("fam_locked"))
    bad = (sa.select(*(down.c[x] for x in r)).where(
        sa.tuple_(*(down.c[c] for c in plan.key)).not_in(
            sa.select(*(locked.c[c] for c in plan.key)))).cte("fam_bad"))
    good_roots = sa.select(*(start.c[x].label(c) for x, c in zip(r, plan.key, strict=True)),
                           start.c.ord.label("ord")).where(
        sa.tuple_(*(start.c[x] for x in r)).not_in(sa.select(*(bad.c[x] for x in r))))
    good_kids = sa.select(*(down.c[c] for c in plan.key),
                          sa.literal(2 ** 31).label("ord")).where(
        sa.tuple_(*(down.c[x] for x in r)).not_in(sa.select(*(bad.c[x] for x in r))),
        sa.tuple_(*(down.c[c] for c in plan.key)).not_in(sa.select(*(start.c[x] for x in r))))
    every = sa.union(good_roots, good_kids).subquery("fam_all")
    cols: list[ColumnElement[Any]] = [
        sa.select(sa.func.count()).select_from(every).scalar_subquery().label("n"),
        sa.select(sa.func.count(sa.distinct(sa.tuple_(*(bad.c[x] for x in r)))))
        .scalar_subquery().label("busy")]
    for i, c in enumerate(plan.key):
        cols.append(sa.select(sa.cast(sa.func.array_agg(aggregate_order_by(
            every.c[c], every.c.ord)), sa.Text)).scalar_subquery().label(f"k{i}"))
    return sa.select(*cols)
