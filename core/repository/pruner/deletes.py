"""The writing statements of a prune: `delete` (the whole plan, once the parents are locked),
`classify` (lock every row of the tree with SKIP LOCKED and name the busy parents) and `late`
(linked rows committed while the prune ran). The walk they share is in `statements`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

from core.repository.pruner.plan import Nullify, Plan, Step
from core.repository.pruner.request import SweepRequest
from core.repository.pruner.statements import (
    TEXT_TYPES,
    ArchiveTarget,
    Rows,
    bound_keys,
    matches,
    needed,
    nullified,
    retarget,
    walk,
)


@dataclass
class Layout:
    """Which output column of the delete statement says what."""

    steps: dict[int, str] = field(default_factory=dict)  # step index -> count column
    guards: dict[int, str] = field(default_factory=dict)  # step index -> bool_or column
    nullified: dict[int, str] = field(default_factory=dict)  # nullify index -> count column
    archived: str | None = None


def _alias(table: sa.Table, name: str) -> Any:
    """`table AS name`, a target DELETE/UPDATE and RETURNING can name (typed loosely: the stubs
    do not know that an alias of a Table is a valid DML target)."""
    return table.alias(name)


def _whole_row(a: Any) -> ColumnElement[Any]:
    return sa.func.to_jsonb(a.table_valued())


def _keys_match(plan: Plan, a: sa.FromClause, keys: list[ColumnElement[Any]],
                ) -> ColumnElement[bool]:
    cols = [a.c[c] for c in plan.key]
    if len(keys) == 1:
        return cols[0] == sa.any_(keys[0])
    return sa.tuple_(*cols).in_(sa.select(*(sa.func.unnest(k) for k in keys)))


def delete_statement(plan: Plan, req: SweepRequest, roots: Sequence[str],
                     archive: ArchiveTarget | None = None) -> tuple[sa.Select[Any], Layout]:
    """Every step of the plan for the locked parents `roots` (one text array per key column):
    the parent's keys oldest first (ids_0 …) and the columns `Layout` names."""
    p = plan.pruner
    layout = Layout()
    archived: list[sa.Select[Any]] = []
    out: list[ColumnElement[Any]] = []
    root = _alias(p.table, "s0")
    cols = list(dict.fromkeys([*needed(plan, plan.root), p.timestamp]))
    returning: list[ColumnElement[Any]] = [root.c[c] for c in cols]
    if archive is not None:
        returning.append(_whole_row(root).label("row"))
    parent = (sa.delete(root).where(_keys_match(plan, root, bound_keys(plan, roots)))
              .returning(*returning).cte("del_0"))
    if archive is not None:
        archived.append(_archive_rows(parent, plan.root.name, "deleted"))

    def delete_step(step: Step, prow: Rows, cols: list[str]) -> Rows:
        a = _alias(step.table, f"s{step.index}")
        ret: list[ColumnElement[Any]] = [a.c[c] for c in cols]
        if step.guard is not None:
            ret.append(retarget(step.guard, step.table, a).label("bad"))
        if archive is not None:
            ret.append(_whole_row(a).label("row"))
        d = (sa.delete(a).where(matches(plan, step, prow, table=a)).returning(*ret)
             .cte(f"del_{step.index}"))
        layout.steps[step.index] = f"n_{step.index}"
        out.append(sa.select(sa.func.count()).select_from(d).scalar_subquery()
                   .label(f"n_{step.index}"))
        if step.guard is not None:
            layout.guards[step.index] = f"bad_{step.index}"
            out.append(sa.select(sa.func.coalesce(sa.func.bool_or(d.c.bad), False))
                       .scalar_subquery().label(f"bad_{step.index}"))
        if archive is not None:
            archived.append(_archive_rows(d, step.name, "deleted"))
        return Rows(d)

    rows = walk(plan, req, Rows(parent), delete_step)
    for j, n in enumerate(plan.nullify):
        if n.step not in rows:
            continue
        u = _nullify(plan, j, n, rows[n.step], archive is not None)
        layout.nullified[j] = f"u_{j}"
        out.append(sa.select(sa.func.count()).select_from(u).scalar_subquery().label(f"u_{j}"))
        if archive is not None:
            archived.append(_archive_rows(u, n.fk.table, "set_null"))
    order = [parent.c[p.timestamp], *(parent.c[c] for c in plan.key)]
    ids = [sa.select(sa.func.array_agg(aggregate_order_by(parent.c[c], *order)))
           .scalar_subquery().label(f"ids_{i}") for i, c in enumerate(plan.key)]
    if archive is not None:
        union = sa.union_all(*archived).subquery("arch")
        ins = (sa.insert(archive.table).from_select(
            ["run_id", "tbl", "kind", "row"],
            sa.select(sa.literal(archive.run_id, sa.BigInteger), union.c.tbl, union.c.kind,
                      union.c.row)).returning(sa.literal(1).label("k")).cte("archived"))
        out.append(sa.select(sa.func.count()).select_from(ins).scalar_subquery()
                   .label("archived"))
        layout.archived = "archived"
    return sa.select(*ids, *out), layout


def _archive_rows(source: sa.FromClause, table: str, kind: str) -> sa.Select[Any]:
    return sa.select(sa.literal(table, sa.Text).label("tbl"),
                     sa.literal(kind, sa.Text).label("kind"), source.c.row.label("row"))


def _nullify(plan: Plan, j: int, n: Nullify, prow: Rows, archiving: bool) -> sa.CTE:
    """UPDATE the referencing columns to NULL (or their default), returning the row's key and
    the values they had (a restore puts them back). Rows are matched to their old values by
    key (by ctid in a table without one)."""
    a = _alias(n.table, f"n{j}")
    old = _alias(n.table, f"o{j}")
    cond = nullified(plan, n, prow, old)
    if n.key:
        olds = sa.select(*(old.c[c] for c in dict.fromkeys([*n.key, *n.columns]))).where(
            cond).subquery(f"old{j}")
        same: ColumnElement[bool] = sa.and_(*(a.c[k] == olds.c[k] for k in n.key))
    else:
        olds = (sa.select(sa.literal_column(f"o{j}.ctid").label("tid"),
                          *(old.c[c] for c in n.columns)).where(cond).subquery(f"old{j}"))
        same = sa.literal_column(f"n{j}.ctid") == olds.c.tid
    value: Any = None if n.fk.on_delete == "set null" else sa.text("DEFAULT")
    row = sa.func.jsonb_build_object(
        sa.literal("key"), sa.func.jsonb_build_object(*_pairs(olds, n.key or n.columns)),
        sa.literal("set"), sa.func.jsonb_build_object(*_pairs(olds, n.columns)))
    return (sa.update(a).values({c: value for c in n.columns}).where(same)
            .returning((row if archiving else sa.literal(None, sa.Text)).label("row"))
            .cte(f"upd_{j}"))


def _pairs(source: sa.FromClause, cols: Sequence[str]) -> list[ColumnElement[Any]]:
    out: list[ColumnElement[Any]] = []
    for c in cols:
        out += [sa.literal(c), source.c[c]]
    return out


# ------------------------------------------------------------------------------ classify
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


# ------------------------------------------------------------------------------ late
def late_statement(plan: Plan, req: SweepRequest, ids: Sequence[str],
                   ) -> tuple[sa.Select[Any], dict[int, str]] | None:
    """Linked rows of the pruned parents (and what cascades from them) committed after the
    delete's snapshot: the links below the pruned table, once more. None when it has none."""
    tops = {s.index for s in plan.steps if s.parent == 0 and s.kind == "link"}
    if not tops:
        return None
    below = {s.index for s in plan.steps if _under(plan, s, tops)}
    out: list[ColumnElement[Any]] = []
    names: dict[int, str] = {}

    def act(step: Step, prow: Rows, cols: list[str]) -> Rows:
        a = _alias(step.table, f"s{step.index}")
        d = (sa.delete(a).where(matches(plan, step, prow, table=a))
             .returning(*(a.c[c] for c in cols)).cte(f"late_{step.index}"))
        names[step.index] = f"n_{step.index}"
        out.append(sa.select(sa.func.count()).select_from(d).scalar_subquery()
                   .label(names[step.index]))
        return Rows(d)

    walk(plan, req, Rows(None, bound_keys(plan, ids)), act, only=below)
    return (sa.select(*out), names) if out else None


def _under(plan: Plan, step: Step, tops: set[int]) -> bool:
    while True:
        if step.index in tops:
            return True
        if step.parent is None:
            return False
        step = plan.steps[step.parent]


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
