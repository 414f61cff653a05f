"""The conditions of a sweep, as SQLAlchemy Core expressions over the pruned table: older than
the cutoff in the boundary column's own terms, terminal, among the requested ids, and not kept
by any blocker (foreign keys, declared blockers, a live descendant in a family).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement

from core.repository.pruner.plan import Block, Plan, Step
from core.repository.pruner.request import SweepRequest


def cutoff(plan: Plan, req: SweepRequest) -> ColumnElement[bool]:
    """`timestamp < before` in the boundary column's own terms. A naive column is read as local
    time in the plan's zone (default: the session's TimeZone); a date qualifies when it is before
    the cutoff's date there. NULL never qualifies; -infinity always, +infinity never."""
    ts = plan.pruner.ts
    before = sa.bindparam("before", req.before, type_=sa.DateTime(timezone=True))
    if plan.boundary == "timestamptz":
        return ts < before
    local: ColumnElement[Any] = (sa.cast(before, sa.DateTime()) if plan.zone is None else
                                 sa.func.timezone(sa.literal(plan.zone), before))
    if plan.boundary == "timestamp":
        return ts < local
    return ts < sa.cast(local, sa.Date)


def aged(plan: Plan, req: SweepRequest) -> ColumnElement[bool]:
    """Terminal and older than the cutoff, and one of the request's ids when it names some."""
    cond = sa.and_(plan.pruner.terminal, cutoff(plan, req))
    if req.ids is not None:
        cond = sa.and_(cond, key_in(plan, [tuple(i) if isinstance(i, tuple) else (i,)
                                           for i in req.ids]))
    if req.excluded:
        cond = sa.and_(cond, sa.not_(key_in(plan, [
            tuple(i) if isinstance(i, tuple) else (i,) for i in req.excluded], "excluded")))
    return cond


def key_in(plan: Plan, ids: Sequence[tuple[Any, ...]], name: str = "ids",
           ) -> ColumnElement[bool]:
    cols = plan.pruner.key
    arrays = [sa.bindparam(f"{name}_{i}", [k[i] for k in ids], type_=ARRAY(c.type))
              for i, c in enumerate(cols)]
    if len(cols) == 1:
        return cols[0] == sa.any_(arrays[0])
    pairs = sa.select(*(sa.func.unnest(a) for a in arrays))
    return sa.tuple_(*cols).in_(pairs)


def _chain(plan: Plan, step: Step) -> list[Step]:
    chain = [step]
    while chain[-1].parent is not None:
        chain.append(plan.steps[chain[-1].parent])
    return chain[::-1]  # root first


def _match(child: sa.FromClause, cols: Sequence[str], parent: sa.FromClause,
           ref: Sequence[str]) -> ColumnElement[bool]:
    return sa.and_(*(child.c[c] == parent.c[r] for c, r in zip(cols, ref, strict=True)))


def blocking(plan: Plan, block: Block) -> ColumnElement[bool]:
    """EXISTS a row that keeps the pruned row (correlated to the pruned table)."""
    b = block.table.alias(f"blk_{block.table.name}")
    conds: list[ColumnElement[bool]] = []
    if block.where is not None:
        conds.append(retarget(block.where, block.table, b))
    if block.columns is None:
        return sa.exists().where(*(conds or [sa.true()]))
    if block.step == 0:
        conds.append(_match(b, block.columns, plan.pruner.table, block.ref_columns))
        return sa.exists().select_from(b).where(*conds)
    # a row referencing a row of a deeper step: join down the chain from the pruned row
    chain = _chain(plan, plan.steps[block.step])[1:]
    aliases = [s.table.alias(f"blk_s{s.index}") for s in chain]
    join: sa.FromClause = aliases[0]
    for parent, (s, a) in zip(aliases, zip(chain[1:], aliases[1:], strict=True), strict=False):
        join = join.join(a, _match(a, s.columns, parent, s.ref_columns))
    join = join.join(b, _match(b, block.columns, aliases[-1], block.ref_columns))
    first = chain[0]
    conds.append(_match(aliases[0], first.columns, plan.pruner.table, first.ref_columns))
    if first.where is not None:
        conds.append(retarget(first.where, first.table, aliases[0]))
    return sa.exists().select_from(join).where(*conds)


def retarget(cond: ColumnElement[bool], table: sa.Table, alias: sa.FromClause,
              ) -> ColumnElement[bool]:
    from sqlalchemy.sql.util import ClauseAdapter

    adapted: ColumnElement[bool] = ClauseAdapter(alias, include_fn=lambda c: getattr(
        c, "table", None) is table).traverse(cond)
    return adapted


def not_blocked(plan: Plan, req: SweepRequest) -> list[ColumnElement[bool]]:
    """One NOT EXISTS per reason, to be ANDed: PostgreSQL makes each an anti-join on the
    referencing table's FK index. NOT (a OR b) would become a hashed subplan that reads every
    referencing table whole on every call, however small the prune."""
    conds = [sa.not_(blocking(plan, b)) for b in plan.blocks]
    if plan.family is not None:
        conds.append(sa.not_(family_blocked(plan, req)))
    return conds


def family_blocked(plan: Plan, req: SweepRequest) -> ColumnElement[bool]:
    """The pruned row has a descendant (through the self-referencing FK) that is not itself
    terminal, old enough and unblocked (a NULL timestamp is not old enough): walk up from every
    such row to its ancestors."""
    fk = plan.family
    assert fk is not None
    t = plan.pruner.table
    key = plan.pruner.key
    x = t.alias("fam_x")
    prunable = sa.and_(plan.pruner.terminal, cutoff(plan, req),
                       *(sa.not_(blocking(plan, b)) for b in plan.blocks))
    young = sa.select(*(x.c[c] for c in fk.columns)).where(
        *(x.c[c].is_not(None) for c in fk.columns),
        sa.not_(sa.func.coalesce(retarget(prunable, t, x), sa.false())))
    up = young.cte("fam_up", recursive=True)
    y = t.alias("fam_y")
    up = up.union(sa.select(*(y.c[c] for c in fk.columns)).join(
        up, sa.and_(*(y.c[r] == up.c[c] for c, r in zip(fk.columns, fk.ref_columns,
                                                           strict=True))))
        .where(*(y.c[c].is_not(None) for c in fk.columns)))
    return sa.tuple_(*(t.c[r] for r in fk.ref_columns)).in_(
        sa.select(*(up.c[c] for c in fk.columns))) if len(key) > 1 else \
        t.c[fk.ref_columns[0]].in_(sa.select(up.c[fk.columns[0]]))
