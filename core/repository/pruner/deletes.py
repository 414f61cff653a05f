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

from core.repository.pruner.conditions import retarget
from core.repository.pruner.plan import Nullify, Plan, Step
from core.repository.pruner.request import SweepRequest
from core.repository.pruner.statements import (
    Act,
    ArchiveTarget,
    Rows,
    bound_keys,
    matches,
    needed,
    nullified,
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


def deleter(plan: Plan, layout: Layout, out: list[ColumnElement[Any]],
            archived: list[sa.Select[Any]], archive: ArchiveTarget | None) -> Act:
    """The walk's action of a delete: DELETE the step's rows that belong to its parent's
    deleted rows, RETURNING what its dependents match on (and its guard, and the whole row
    when archiving); its count (and guard flag) go to `out`, named in `layout`."""
    def delete_step(step: Step, prow: Rows, cols: list[str]) -> Rows:
        a = _alias(step.table, f"s{step.index}")
        ret: list[ColumnElement[Any]] = [a.c[c] for c in cols]
        if step.guard is not None:
            ret.append(retarget(step.guard, step.table, a).label("bad"))
        if archive is not None:
            ret.append(_whole_row(a).label("row"))
        d = (sa.delete(a).where(matches(plan, step, prow, table=a)).returning(*ret)
             .cte(f"del_{step.index}"))
        return counted(step, d, layout, out, archived, archive is not None)

    return delete_step


def counted(step: Step, d: sa.CTE, layout: Layout, out: list[ColumnElement[Any]],
            archived: list[sa.Select[Any]], archiving: bool) -> Rows:
    """A step's DELETE … RETURNING as the walk's rows, its count and guard flag in `out`."""
    layout.steps[step.index] = f"n_{step.index}"
    out.append(sa.select(sa.func.count()).select_from(d).scalar_subquery()
               .label(f"n_{step.index}"))
    if step.guard is not None:
        layout.guards[step.index] = f"bad_{step.index}"
        out.append(sa.select(sa.func.coalesce(sa.func.bool_or(d.c.bad), False))
                   .scalar_subquery().label(f"bad_{step.index}"))
    if archiving:
        archived.append(_archive_rows(d, step.name, "deleted"))
    return Rows(d)


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

    delete_step = deleter(plan, layout, out, archived, archive)
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
    # the delete's snapshot: the late pass is needed only if another transaction has committed
    # since (`others_committed`)
    snap = sa.cast(sa.func.pg_current_snapshot(), sa.Text).label("snapshot")
    return sa.select(*ids, *out, snap), layout


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


# ------------------------------------------------------------------------------ late
_OTHERS_COMMITTED = sa.text("""
SELECT EXISTS (
  SELECT 1 FROM (
    SELECT x FROM pg_snapshot_xip(CAST(CAST(:snapshot AS text) AS pg_snapshot)) AS x
    UNION ALL
    SELECT CAST(CAST(g AS text) AS xid8) FROM generate_series(
      CAST(CAST(pg_snapshot_xmax(CAST(CAST(:snapshot AS text) AS pg_snapshot)) AS text) AS bigint),
      CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS text) AS bigint) - 1) AS g
  ) AS t (x)
  WHERE pg_xact_status(t.x) = 'committed')""")


def others_committed(snapshot: str) -> sa.TextClause:
    """Whether a transaction other than ours has committed since `snapshot` (the text of the
    delete's `pg_snapshot`) was taken: one it saw running, or one that started after it. If
    none has, nothing became visible since, and a late pass could not find a row: its index
    probes (one per pruned id and link table) are skipped. Our own (sub)transactions report
    'in progress', aborted ones 'aborted'."""
    return _OTHERS_COMMITTED.bindparams(snapshot=snapshot)


def _late_tops(plan: Plan) -> set[int]:
    return {s.index for s in plan.steps if s.parent == 0 and s.kind == "link"}


def has_late(plan: Plan) -> bool:
    """Whether the plan has links right under the pruned table (a late pass to consider)."""
    return bool(_late_tops(plan))


def late_statement(plan: Plan, req: SweepRequest, ids: Sequence[str],
                   ) -> tuple[sa.Select[Any], dict[int, str]] | None:
    """Linked rows of the pruned parents (and what cascades from them) committed after the
    delete's snapshot: the links below the pruned table, once more. None when it has none."""
    tops = _late_tops(plan)
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


# ------------------------------------------------------------------------------ chunks
def below(plan: Plan, top: int) -> set[int]:
    """The steps under step `top` (not `top` itself)."""
    return {s.index for s in plan.steps if s.index != top and _under(plan, s, {top})}


def chunk_statement(plan: Plan, req: SweepRequest, roots: Sequence[str], top: Step,
                    size: int) -> tuple[sa.Select[Any], Layout]:
    """Up to `size` rows of `top` (a step right under the pruned table) that belong to the
    locked parents `roots`, taken with SKIP LOCKED, deleted with everything below them (the
    same walk as the whole prune); the parents themselves stay. Counts and guard flags as
    `Layout` names them."""
    layout = Layout()
    out: list[ColumnElement[Any]] = []
    parent = Rows(None, bound_keys(plan, roots))
    pick_t = _alias(top.table, "pick")
    pick = (sa.select(sa.literal_column("pick.ctid").label("tid"))
            .select_from(pick_t).where(matches(plan, top, parent, table=pick_t))
            .limit(sa.bindparam("chunk", size, type_=sa.Integer))
            .with_for_update(skip_locked=True).cte("pick"))
    a = _alias(top.table, f"s{top.index}")
    ret: list[ColumnElement[Any]] = [a.c[c] for c in needed(plan, top)]
    if top.guard is not None:
        ret.append(retarget(top.guard, top.table, a).label("bad"))
    d = (sa.delete(a).where(sa.literal_column(f"s{top.index}.ctid") == sa.any_(
        sa.func.array(sa.select(pick.c.tid).scalar_subquery())))
        .returning(*ret).cte(f"del_{top.index}"))
    first = counted(top, d, layout, out, [], False)
    rows = walk(plan, req, parent, deleter(plan, layout, out, [], None),
                only=below(plan, top.index), start={top.index: first})
    for j, n in enumerate(plan.nullify):
        if n.step in rows and n.step != 0:
            u = _nullify(plan, j, n, rows[n.step], False)
            layout.nullified[j] = f"u_{j}"
            out.append(sa.select(sa.func.count()).select_from(u).scalar_subquery()
                       .label(f"u_{j}"))
    return sa.select(*out), layout
