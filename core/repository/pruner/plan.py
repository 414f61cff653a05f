"""A plan: the declaration reconciled with the live catalog (`builder` makes it), before any
statement that writes — the tree of tables a prune deletes from (`Step`s, the pruned table
first), the reasons that keep a parent (`Block`s), the references it sets NULL (`Nullify`), and
what an operator must know before running it: DELETE triggers, row-level security, unindexed
FK columns (with the index that fixes each) and the boundary column's semantics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from core.repository.pruner.catalog import Catalog, ForeignKey, TableFacts
from core.repository.pruner.declaration import Mention, Pruner

TIMESTAMP_TYPES = {"timestamp with time zone": "timestamptz",
                   "timestamp without time zone": "timestamp", "date": "date"}


@dataclass(frozen=True)
class Step:
    """One table of the delete tree. Rows of `table` belong to the step when `columns` match
    the parent step's `ref_columns` (for a link: the parent's key as text) and `where` holds."""

    index: int
    kind: str  # root | child | cascade | link
    table: sa.Table
    facts: TableFacts
    parent: int | None
    columns: tuple[str, ...]
    ref_columns: tuple[str, ...]
    key: tuple[str, ...]
    where: ColumnElement[bool] | None = None
    guard: ColumnElement[bool] | None = None  # a deleted row matching it aborts the prune
    guard_reason: str = ""
    fk: ForeignKey | None = None
    rbac: bool = False
    link_label: str = ""

    @property
    def name(self) -> str:
        return self.facts.name

    def describe(self) -> str:
        how = {"root": "the pruned rows", "child": "declared child",
               "cascade": "ON DELETE CASCADE, not declared", "link": "linked by text id"}[
            self.kind]
        via = f" via {self.fk.name}" if self.fk else (
            f" as {self.link_label}" if self.link_label else "")
        return f"{self.name} ({how}{via})"


@dataclass(frozen=True)
class Block:
    """A reason that keeps a parent: rows of `table` referencing step `step`'s rows through
    `columns` -> `ref_columns` (and matching `where`); `columns` None means `where` alone."""

    reason: str
    step: int
    table: sa.Table
    columns: tuple[str, ...] | None
    ref_columns: tuple[str, ...]
    where: ColumnElement[bool] | None
    automatic: bool
    fk: ForeignKey | None = None


@dataclass(frozen=True)
class Nullify:
    """A SET NULL reference the declaration allows: rows of `table` whose `columns` point at step
    `step`'s rows are set to NULL by the prune itself (counted, archived)."""

    step: int
    table: sa.Table
    columns: tuple[str, ...]
    ref_columns: tuple[str, ...]
    key: tuple[str, ...]
    fk: ForeignKey


@dataclass(frozen=True)
class Plan:
    pruner: Pruner
    catalog: Catalog
    steps: tuple[Step, ...]  # the root first; every parent before its children
    blocks: tuple[Block, ...]
    nullify: tuple[Nullify, ...]
    family: ForeignKey | None  # a self-referencing FK of the pruned table (families go together)
    key: tuple[str, ...]  # the pruned table's primary key
    boundary: str  # timestamptz | timestamp | date
    zone: str | None  # the zone of a naive boundary (None: the session's TimeZone)
    warnings: tuple[str, ...] = ()
    fingerprint: str = ""
    unindexed: tuple[ForeignKey, ...] = field(default=())
    mentions: tuple[tuple[int, Mention], ...] = ()  # (step, mention): counted, never deleted

    @property
    def root(self) -> Step:
        return self.steps[0]

    def tables(self, cascade_rbac: bool = True) -> list[str]:
        """Tables a prune deletes from, in report order (the pruned table first)."""
        names = [s.name for s in self.steps if cascade_rbac or not s.rbac]
        return list(dict.fromkeys(names))

    def children_of(self, index: int) -> list[Step]:
        return [s for s in self.steps if s.parent == index]


def describe(plan: Plan, cascade_rbac: bool = True) -> list[str]:
    """The plan as lines an operator reads (`pruner check`)."""
    lines = [f"{plan.pruner.name}: {plan.root.name}, key ({', '.join(plan.key)}), boundary "
             f"{plan.pruner.timestamp} ({boundary_text(plan)})"]
    depth: dict[int, int] = {0: 0}
    for s in plan.steps[1:]:
        if s.rbac and not cascade_rbac:
            continue
        depth[s.index] = depth[s.parent or 0] + 1
        guard = f"; guarded: {s.guard_reason}" if s.guard is not None else ""
        lines.append(f"{'  ' * depth[s.index]}deletes {s.describe()}{guard}")
    if plan.family is not None:
        lines.append(f"  families: {plan.family.describe()} — a row goes with its descendants; "
                     "a descendant that cannot be pruned keeps it")
    for b in plan.blocks:
        lines.append(f"  blocked when: {b.reason}{' (from the catalog)' if b.automatic else ''}")
    for n in plan.nullify:
        lines.append(f"  sets NULL: {n.fk.describe()} (declared SetNull)")
    for i, m in plan.mentions:
        lines.append(f"  counts, keeps: {m.label} names {plan.steps[i].name} rows without a "
                     "foreign key (pruned on its own)")
    lines += [f"  warning: {w}" for w in plan.warnings]
    for fk in plan.unindexed:
        lines.append(f"  unindexed: {fk.table}({', '.join(fk.columns)}) is scanned for every "
                     f"pruned row; fix: {fk.index_fix}")
    return lines


def boundary_text(plan: Plan) -> str:
    if plan.boundary == "timestamptz":
        return "timestamp with time zone: compared as an instant"
    zone = plan.zone or f"the session TimeZone ({plan.catalog.timezone})"
    if plan.boundary == "timestamp":
        return f"timestamp without time zone: read as local time in {zone}"
    return f"date: a row qualifies when its date is before the cutoff's date in {zone}"
