"""The declaration of a prunable entity: `Pruner` and what it says about the tables around it.

    Child      a table whose rows reference the parent through ONE foreign key and go with it
    Blocker    rows that keep a parent out of the candidates (with a reason)
    Link       rows that name a pruned row by a text id without a foreign key (RBAC rows)
    SetNull    an ON DELETE SET NULL / SET DEFAULT reference the prune may let PostgreSQL apply

A declaration is checked when it is made (names, columns, timestamp type) and against the live
catalog when a plan is built (`core.repository.pruner.plan`). It is immutable: a caller bounds a
sweep by `before` and `limit`, never widens which rows count as terminal. Declared constants
are rendered as SQL literals (see `inline_constants`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.visitors import replacement_traverse

from core import errors
from core.repository.base import as_table, column_names

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def inline_constants(cond: ColumnElement[bool]) -> ColumnElement[bool]:
    """The condition with its declared constants rendered as SQL literals.

    As bound parameters the planner could not prove that a (generic, prepared) plan matches a
    partial index like `... WHERE status IN ('TERMINATED', 'CANCELLED')`; as literals every plan
    can use it. The values are the declaration's own, never user input."""
    def inline(element: Any, **_: Any) -> Any:
        if isinstance(element, BindParameter):
            return element.render_literal_execute()
        return None

    return replacement_traverse(cond, {}, inline)


def _condition(where: ColumnElement[bool] | None, what: str) -> ColumnElement[bool] | None:
    if where is None:
        return None
    if not isinstance(where, ColumnElement):
        raise errors.DefinitionError(f"{what}: where must be a SQL condition")
    return inline_constants(where)


@dataclass(frozen=True)
class Link:
    """Rows of `table` that name a deleted row without a foreign key: `id_column` holds the
    row's key (as text, or in the key's own type) and, when given, `type_column = type_value`
    says which kind of row it is. They go with every deleted row of `of` (default: the pruned
    table; any table of the plan, e.g. a child's RBAC rows), counted, with their own cascade.
    An association table with two directions is two Links. `rbac` links are skipped by a sweep
    with `cascade_rbac=False`."""

    table: sa.Table
    id_column: str
    type_column: str | None = None
    type_value: str | None = None
    rbac: bool = True
    of: str | None = None  # the name of the table whose rows it names (None: the pruned one)

    def __init__(self, table: sa.Table | type, id_column: str, type_column: str | None = None,
                 type_value: str | None = None, *, rbac: bool = True,
                 of: sa.Table | type | None = None) -> None:
        t = as_table(table)
        object.__setattr__(self, "of", None if of is None else as_table(of).name)
        object.__setattr__(self, "table", t)
        object.__setattr__(self, "id_column", column_names(t, id_column, "Link")[0])
        if (type_column is None) != (type_value is None):
            raise errors.DefinitionError(
                f"Link on {t.name}: give both type_column and type_value, or neither")
        if type_column is not None:
            column_names(t, type_column, "Link")
        object.__setattr__(self, "type_column", type_column)
        object.__setattr__(self, "type_value", type_value)
        object.__setattr__(self, "rbac", rbac)

    @property
    def label(self) -> str:
        kind = f"{self.type_column}={self.type_value!r}, " if self.type_column else ""
        return f"{self.table.name}({kind}{self.id_column})"


@dataclass(frozen=True)
class Mention:
    """Rows of `table` that name a deleted row of `of` (default: the pruned table) in `column`
    without a foreign key, but have a life of their own (history, usage records): they are not
    deleted; previews count them, so nothing is orphaned silently."""

    table: sa.Table
    column: str
    of: str | None = None

    def __init__(self, table: sa.Table | type, column: str,
                 of: sa.Table | type | None = None) -> None:
        t = as_table(table)
        object.__setattr__(self, "table", t)
        object.__setattr__(self, "column", column_names(t, column, "Mention")[0])
        object.__setattr__(self, "of", None if of is None else as_table(of).name)

    @property
    def label(self) -> str:
        return f"{self.table.name}.{self.column}"


@dataclass(frozen=True)
class Child:
    """A table whose rows reference the parent through ONE foreign key (`on`: its column, or its
    columns in order for a composite key) and are deleted with it, counted — needed where the
    FK does not cascade (NO ACTION, RESTRICT). Two foreign keys of one table are two Childs.
    `where` narrows which referencing rows are children (a polymorphic reference); with it, a
    referencing row outside `where` blocks the parent."""

    table: sa.Table
    on: tuple[str, ...]
    where: ColumnElement[bool] | None = None

    def __init__(self, table: sa.Table | type, on: str | Sequence[str],
                 where: ColumnElement[bool] | None = None) -> None:
        t = as_table(table)
        object.__setattr__(self, "table", t)
        object.__setattr__(self, "on", column_names(t, on, "Child"))
        object.__setattr__(self, "where", _condition(where, f"Child {t.name}"))

    @property
    def label(self) -> str:
        return f"Child({self.table.name}, on=({', '.join(self.on)}))"


@dataclass(frozen=True)
class Blocker:
    """Rows of `table` that keep a parent out of the candidates, with a `reason` an operator can
    read. `on` names the column(s) that reference the parent's key; `where` narrows which rows
    block. With `on=None`, `where` alone decides and may refer to the parent's table (a
    correlated condition, e.g. a JSON column that names the parent)."""

    table: sa.Table
    on: tuple[str, ...] | None
    where: ColumnElement[bool] | None = None
    reason: str = ""

    def __init__(self, table: sa.Table | type, on: str | Sequence[str] | None,
                 where: ColumnElement[bool] | None = None, reason: str = "") -> None:
        t = as_table(table)
        object.__setattr__(self, "table", t)
        object.__setattr__(self, "on", None if on is None else column_names(t, on, "Blocker"))
        if on is None and where is None:
            raise errors.DefinitionError(f"Blocker on {t.name}: give `on`, `where`, or both")
        object.__setattr__(self, "where", _condition(where, f"Blocker {t.name}"))
        object.__setattr__(self, "reason", reason or f"has rows in {t.name}")


@dataclass(frozen=True)
class SetNull:
    """Lets a prune apply an ON DELETE SET NULL (or SET DEFAULT) reference of `table(on)`: the
    rows are updated explicitly, counted and archived. Undeclared, such a reference blocks the
    parent instead (a live row would be changed)."""

    table: sa.Table
    on: tuple[str, ...]

    def __init__(self, table: sa.Table | type, on: str | Sequence[str]) -> None:
        t = as_table(table)
        object.__setattr__(self, "table", t)
        object.__setattr__(self, "on", column_names(t, on, "SetNull"))


@dataclass(frozen=True)
class Pruner:
    """One prunable entity: its table, the hard-coded terminal condition, the column `before`
    bounds (timestamptz, timestamp or date), and what the declaration says about the tables
    around it. `timezone` is the zone a `timestamp without time zone` column holds (default:
    the database session's TimeZone).

    Raises `DefinitionError` when declared wrongly (bad name, a timestamp column that is not a
    date/time, a table that is its own child, …); a plan checks the rest against the catalog."""

    name: str
    table: sa.Table
    terminal: ColumnElement[bool]
    timestamp: str
    children: tuple[Child, ...] = ()
    blockers: tuple[Blocker, ...] = ()
    links: tuple[Link, ...] = ()
    set_null: tuple[SetNull, ...] = ()
    mentions: tuple[Mention, ...] = ()
    timezone: str | None = None
    description: str = ""
    # Where one entity has several declarations (one per schema version), what this one needs:
    # tables ("t") or columns ("t.c") that must exist, and the model's name for messages.
    requires: tuple[str, ...] = ()
    model: str = ""
    # How often a cycle in the schema (a node, its roles, their nodes…) is followed on one path
    # of the plan's tree; the tree grows geometrically with it.
    max_repeat: int = 2

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not NAME_RE.match(self.name):
            raise errors.DefinitionError(
                f"pruner name {self.name!r} must be lowercase letters, digits and _"
            )
        object.__setattr__(self, "table", as_table(self.table))
        for name in ("children", "blockers", "links", "set_null", "mentions", "requires"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not isinstance(self.terminal, ColumnElement):
            raise errors.DefinitionError(
                f"pruner {self.name}: terminal must be a SQL condition (use sa.true() for "
                "append-only tables)"
            )
        object.__setattr__(self, "terminal", inline_constants(self.terminal))
        ts = self.table.c.get(self.timestamp)
        if ts is None or not isinstance(ts.type, sa.DateTime | sa.Date):
            raise errors.DefinitionError(
                f"pruner {self.name}: {self.table.name}.{self.timestamp} is not a timestamp or "
                "date column"
            )
        for child in self.children:
            if child.table is self.table:
                raise errors.DefinitionError(
                    f"pruner {self.name}: a table cannot be its own child (a self-referencing "
                    "foreign key is read from the catalog)")
        if isinstance(self.max_repeat, bool) or not isinstance(self.max_repeat, int) or \
                self.max_repeat < 1:
            raise errors.DefinitionError(f"pruner {self.name}: max_repeat must be 1 or more")
        if not self.table.primary_key.columns:
            raise errors.DefinitionError(
                f"pruner {self.name}: declare the primary key of {self.table.name}")

    @property
    def key(self) -> tuple[sa.Column[Any], ...]:
        """The declared primary key columns, in order (checked against the catalog by plans)."""
        return tuple(self.table.primary_key.columns)

    @property
    def ts(self) -> sa.Column[Any]:
        return self.table.c[self.timestamp]

    @property
    def has_rbac(self) -> bool:
        return any(link.rbac for link in self.links)
