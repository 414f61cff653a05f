"""The SQL of a sweep, built with SQLAlchemy Core from a plan and a request; nothing executes here.

A prune is three statements in one transaction (see `executor`):

    lock     candidates: terminal, older than the cutoff, not blocked, oldest first, LIMIT,
             FOR UPDATE SKIP LOCKED; their keys come back as one text value per key column
    delete   every step of the plan (children, the cascade tree, linked rows, SET NULL
             updates, the parent), each a data-modifying CTE matching its parent step's rows;
             counts per step, the parent's keys oldest first, delete-time guard flags and,
             when archiving, every deleted row as JSON
    late     linked rows (RBAC) of the pruned keys that were committed while the prune ran

`classify` is the careful variant of `lock` used when a row a prune must delete is held by
someone else: it locks every row of the tree with SKIP LOCKED and names the busy parents. The
preview's per-table counts come from the same walk (`counts`), as SELECTs. Ids never travel as
one bind parameter each: key sets are bound as one array (asyncpg caps a statement at 32,767).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

from core.repository.pruner.conditions import aged, not_blocked, retarget
from core.repository.pruner.plan import Nullify, Plan, Step
from core.repository.pruner.request import SweepRequest
from core.settings import PruneSettings

TEXT_TYPES = ("text", "character varying")


@dataclass(frozen=True)
class ArchiveTarget:
    """Where a prune copies every row it deletes or sets NULL, in the same statement: `table`
    has the columns run_id (bigint), tbl (text), kind (text), row (jsonb); `run_id` is the
    run they belong to."""

    table: sa.Table
    run_id: int


@dataclass(frozen=True)
class Window:
    """A drain's keyset window over (timestamp, *key): rows past `after` and up to `upto`
    (either may be None)."""

    after: tuple[Any, ...] | None = None
    upto: tuple[Any, ...] | None = None


def _position(plan: Plan, name: str, pos: tuple[Any, ...]) -> ColumnElement[Any]:
    p = plan.pruner
    return sa.tuple_(sa.bindparam(f"{name}_ts", pos[0], type_=p.ts.type), *(
        sa.bindparam(f"{name}_k{i}", v, type_=c.type)
        for i, (c, v) in enumerate(zip(p.key, pos[1:], strict=True))))


def candidates(plan: Plan, req: SweepRequest, *, limited: bool = True,
               window: Window | None = None) -> sa.Select[Any]:
    """Oldest-first candidates: key columns (as k0, k1, …) and `ts`, within `window`."""
    p = plan.pruner
    keys = p.key
    q = sa.select(*(c.label(f"k{i}") for i, c in enumerate(keys)), p.ts.label("ts")).where(
        aged(plan, req), *not_blocked(plan, req))
    if window is not None and window.after is not None:
        q = q.where(sa.tuple_(p.ts, *keys) > _position(plan, "after", window.after))
    if window is not None and window.upto is not None:
        q = q.where(sa.tuple_(p.ts, *keys) <= _position(plan, "upto", window.upto))
    q = q.order_by(p.ts, *keys)
    return q.limit(sa.bindparam("limit", req.limit, type_=sa.Integer)) if limited else q


# ------------------------------------------------------------------------------ lock
def lock_statement(plan: Plan, req: SweepRequest, window: Window | None = None,
                   ) -> sa.Select[Any]:
    """The candidates, locked (SKIP LOCKED): one row with how many (`n`), each key column's
    values as one text array literal oldest first (`k0`, …), and the last (ts, key) taken
    (`last_ts`, `last_k0`, …: a drain's keyset position)."""
    p = plan.pruner
    cand = (candidates(plan, req, window=window).with_for_update(of=p.table, skip_locked=True)
            .subquery("cand"))
    order = [cand.c.ts, *(cand.c[f"k{i}"] for i in range(len(p.key)))]
    # One sorted aggregate per key column, written the same way twice: PostgreSQL computes
    # identical aggregates once, so the last key is the array's last element at no extra sort
    # (a second, descending aggregate per column would sort every candidate again).
    keys = [sa.func.array_agg(aggregate_order_by(cand.c[f"k{i}"], *order))
            for i in range(len(p.key))]
    n = sa.func.count()
    cols: list[ColumnElement[Any]] = [n.label("n")]
    cols += [sa.cast(a, sa.Text).label(f"k{i}") for i, a in enumerate(keys)]
    cols.append(sa.func.max(cand.c.ts).label("last_ts"))  # the last row's: ts leads the order
    cols += [a[n].label(f"last_k{i}") for i, a in enumerate(keys)]
    return sa.select(*cols).select_from(cand)


def bound_keys(plan: Plan, texts: Sequence[str]) -> list[ColumnElement[Any]]:
    """The locked keys, bound back as typed arrays (one per key column).

    Each is wrapped as `array(SELECT unnest(CAST(:text AS type[])))`: the planner then does not
    know its length and plans index probes, as for the arrays of the deleted rows further down
    the walk. A plain cast of a bound literal would be folded into a constant of known length,
    and on a table without statistics that has made the planner pick a sequential scan that
    compares every row with every key (minutes at 200,000 ids)."""
    return [sa.func.array(sa.select(sa.func.unnest(
        sa.cast(sa.bindparam(f"roots_{i}", t, type_=sa.Text), ARRAY(c.type))))
        .scalar_subquery())
        for i, (c, t) in enumerate(zip(plan.pruner.key, texts, strict=True))]


# ------------------------------------------------------------------------------ the walk
@dataclass
class Rows:
    """A step's rows as a source of the columns its dependents match against: a CTE or
    subquery (`source`, its columns renamed by `names` where they differ), or the bound key
    arrays of the locked parents (`arrays`, one per key column)."""

    source: sa.FromClause | None
    arrays: list[ColumnElement[Any]] | None = None
    names: dict[str, str] | None = None

    def col(self, name: str) -> ColumnElement[Any]:
        assert self.source is not None
        return self.source.c[(self.names or {}).get(name, name)]

    def column_array(self, col: str, plan: Plan, step: Step) -> ColumnElement[Any]:
        if self.arrays is not None and col in step.key:
            return self.arrays[step.key.index(col)]
        return sa.func.array(sa.select(self.col(col)).scalar_subquery())

    def rows(self, cols: Sequence[str]) -> sa.Select[Any]:
        if self.arrays is not None:
            return sa.select(*(sa.func.unnest(a) for a in self.arrays))
        return sa.select(*(self.col(c) for c in cols))


def matches(plan: Plan, step: Step, parent: Rows, table: sa.FromClause | None = None,
            ) -> ColumnElement[bool]:
    """Rows of `step` (of `table`, default the step's) that belong to the parent's rows."""
    t = table if table is not None else step.table
    pstep = plan.steps[step.parent or 0]
    if step.kind == "link":
        ids = parent.column_array(step.ref_columns[0], plan, pstep)
        col = step.columns[0]
        if step.facts.column_type(col).startswith(TEXT_TYPES):
            ids = sa.cast(ids, ARRAY(sa.Text))
        cond = t.c[col] == sa.any_(ids)
    elif len(step.columns) == 1:
        cond = t.c[step.columns[0]] == sa.any_(
            parent.column_array(step.ref_columns[0], plan, pstep))
    else:
        cond = sa.tuple_(*(t.c[c] for c in step.columns)).in_(parent.rows(step.ref_columns))
    if step.where is not None:
        cond = sa.and_(cond, step.where if table is None else
                       retarget(step.where, step.table, t))
    return cond


def nullified(plan: Plan, n: Nullify, parent: Rows, table: sa.FromClause,
              ) -> ColumnElement[bool]:
    """Rows of a SET NULL reference (in `table`, the referencing table or an alias) that point
    at the parent step's rows."""
    step = plan.steps[n.step]
    if len(n.columns) == 1:
        return table.c[n.columns[0]] == sa.any_(
            parent.column_array(n.ref_columns[0], plan, step))
    return sa.tuple_(*(table.c[c] for c in n.columns)).in_(parent.rows(n.ref_columns))


def needed(plan: Plan, step: Step) -> list[str]:
    """Columns of a step's rows that its dependents (children, links, SET NULL) match on."""
    cols: list[str] = list(step.key)
    for s in plan.steps:
        if s.parent == step.index:
            cols += list(s.ref_columns)
    for n in plan.nullify:
        if n.step == step.index:
            cols += list(n.ref_columns)
    return list(dict.fromkeys(cols)) or [next(iter(step.facts.columns))]


# One step of a walk: (the step, its parent step's rows, the columns its dependents need) ->
# the step's own rows.
Act = Callable[[Step, Rows, list[str]], Rows]


def walk(plan: Plan, req: SweepRequest, root: Rows, act: Act,
         only: set[int] | None = None, start: dict[int, Rows] | None = None,
         ) -> dict[int, Rows]:
    """Visit every step below the root once, parents first (those in `only`, when given;
    `start` gives steps whose rows are already known); RBAC steps and what hangs below them are
    left out when the request says so."""
    rows: dict[int, Rows] = {0: root, **(start or {})}
    for step in plan.steps[1:]:
        if (step.rbac and not req.cascade_rbac) or (only is not None and step.index not in only):
            continue
        if step.index in rows:
            continue
        parent = rows.get(step.parent or 0)
        if parent is None:
            continue  # below a step that was left out
        rows[step.index] = act(step, parent, needed(plan, step))
    return rows


def candidate_rows(plan: Plan, req: SweepRequest) -> Rows:
    """The first `limit` candidates as the root's rows of a walk (no locks): a materialized CTE
    with the key and every column the root's dependents match on. With a self-referencing FK
    their descendants are in it too, as the prune takes them (a family goes whole)."""
    t = plan.pruner.table
    extra = [c for c in needed(plan, plan.root) if c not in plan.key]
    first = candidates(plan, req).add_columns(*(t.c[c] for c in extra))
    names = {c: f"k{i}" for i, c in enumerate(plan.key)}
    if plan.family is None:
        return Rows(first.cte("cand").prefix_with("MATERIALIZED"), None, names)
    fk = plan.family
    top = first.cte("cand_first")

    def row(tab: sa.FromClause) -> list[ColumnElement[Any]]:
        return [*(tab.c[c].label(f"k{i}") for i, c in enumerate(plan.key)),
                tab.c[plan.pruner.timestamp].label("ts"), *(tab.c[c] for c in extra)]

    def below(tab: sa.FromClause, up: sa.FromClause) -> ColumnElement[bool]:
        return sa.and_(*(tab.c[c] == up.c[names[ref]]
                         for c, ref in zip(fk.columns, fk.ref_columns, strict=True)))

    kid, nxt = t.alias("fam_kid"), t.alias("fam_next")
    down = sa.select(*row(kid)).select_from(kid.join(top, below(kid, top))).cte(
        "cand_down", recursive=True)
    down = down.union(sa.select(*row(nxt)).select_from(nxt.join(down, below(nxt, down))))
    cand = sa.union(sa.select(top), sa.select(down)).cte("cand").prefix_with("MATERIALIZED")
    return Rows(cand, None, names)


def counts(plan: Plan, req: SweepRequest) -> tuple[sa.Select[Any], list[str]]:
    """Per-table counts of what a prune of the first `limit` candidates deletes — the prune's
    own walk, as SELECTs — and the table names in the order of the row's columns. A table that
    several steps reach is counted once per row (their conditions ORed)."""
    root = candidate_rows(plan, req)
    cand = root.source
    assert cand is not None
    conds: dict[str, list[ColumnElement[bool]]] = {}
    tables: dict[str, sa.Table] = {}
    ctes: dict[str, sa.CTE] = {}

    def act(step: Step, parent: Rows, cols: list[str]) -> Rows:
        where = matches(plan, step, parent)
        conds.setdefault(step.name, []).append(where)
        tables[step.name] = step.table
        cte = (sa.select(*(step.table.c[c] for c in cols)).where(where)
               .cte(f"rows_{step.index}").prefix_with("MATERIALIZED"))
        ctes[step.name] = cte
        return Rows(cte)

    rows = walk(plan, req, root, act)
    out = {plan.root.name: sa.select(sa.func.count()).select_from(cand).scalar_subquery()}
    for name, cs in conds.items():
        if len(cs) == 1 and name != plan.root.name:  # one step reaches it: count its rows
            out[name] = sa.select(sa.func.count()).select_from(ctes[name]).scalar_subquery()
            continue
        if name == plan.root.name:  # reached again deeper (a node's cascade): the root's rows too
            key = [tables[name].c[c] for c in plan.key]
            cs = [*cs, sa.tuple_(*key).in_(sa.select(*(cand.c[f"k{i}"]
                                                        for i in range(len(key)))))]
        out[name] = (sa.select(sa.func.count()).select_from(tables[name])
                     .where(sa.or_(*cs)).scalar_subquery())
    for i, m in plan.mentions:
        if i not in rows or len(plan.steps[i].key) != 1:
            continue
        ids = rows[i].column_array(plan.steps[i].key[0], plan, plan.steps[i])
        col = m.table.c[m.column]
        if isinstance(col.type, sa.String):
            ids = sa.cast(ids, ARRAY(sa.Text))
        out[MENTION + m.label] = (sa.select(sa.func.count()).select_from(m.table)
                                  .where(col == sa.any_(ids)).scalar_subquery())
    return (sa.select(*(c.label(f"n_{i}") for i, c in enumerate(out.values()))), list(out))


MENTION = "mention:"  # counts() names a mention's count "mention:table.column"


def local_settings(s: PruneSettings, lock_timeout_ms: int | None = None) -> sa.Select[Any]:
    """SET LOCAL the timeouts (bound values via set_config; they end with the transaction).

    JIT is switched off too: our statements are index-driven and short, and the planner's cost
    estimates for LIMITed scans behind anti-joins routinely trip the JIT threshold, which then
    spends more time compiling than the query takes. It is switched off through
    `jit_above_cost = -1`, not `jit`: asyncpg turns `jit` off and back on around its type
    introspection and, when it finds it off, leaves it off for the whole session."""
    lock = s.lock_timeout_ms if lock_timeout_ms is None else lock_timeout_ms
    return sa.select(sa.func.set_config("lock_timeout", str(lock), True),
                     sa.func.set_config("statement_timeout", str(s.statement_timeout_ms), True),
                     sa.func.set_config("jit_above_cost", "-1", True))
