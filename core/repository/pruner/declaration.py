"""The declaration of a prunable entity: `Pruner`, its `Child` tables and its `Blocker`s.

A declaration is checked when it is made (names, key, timestamp type, columns) and is immutable
afterwards: a caller can bound a sweep by `before` and `limit`, never widen which rows count as
terminal. Declared constants are rendered as SQL literals (see `inline_constants`).
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
from core.reference_schema import association_scopes_entities as RBAC_TABLE
from core.repository.base import as_table, column_names, single_key

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


@dataclass(frozen=True)
class Child:
    """A table whose rows reference the parent and are deleted before it (and counted).

    `on` names the referencing column(s); a row is a child when any of them points at a pruned
    parent. `rbac_entity_type` makes the child's own RBAC rows go too."""

    table: sa.Table
    on: tuple[str, ...]
    rbac_entity_type: str | None = None

    def __init__(self, table: sa.Table | type, on: str | Sequence[str],
                 rbac_entity_type: str | None = None) -> None:
        t = as_table(table)
        object.__setattr__(self, "table", t)
        object.__setattr__(self, "on", column_names(t, on, "Child"))
        object.__setattr__(self, "rbac_entity_type", rbac_entity_type)
        if rbac_entity_type is not None:
            single_key(t)


@dataclass(frozen=True)
class Blocker:
    """A table whose rows keep the parent out of the candidates (an ON DELETE RESTRICT child, a
    child that is still alive). `where` narrows which rows block; None means any row."""

    table: sa.Table
    on: str
    where: ColumnElement[bool] | None = None
    reason: str = ""

    def __init__(self, table: sa.Table | type, on: str, where: ColumnElement[bool] | None = None,
                 reason: str = "") -> None:
        t = as_table(table)
        object.__setattr__(self, "table", t)
        object.__setattr__(self, "on", column_names(t, on, "Blocker")[0])
        object.__setattr__(self, "where", None if where is None else inline_constants(where))
        object.__setattr__(self, "reason", reason or f"has rows in {t.name}")


@dataclass(frozen=True)
class Pruner:
    """One prunable entity: its table, the hard-coded terminal condition, the timestamp column
    that `before` bounds, the children deleted with it, its blockers and its RBAC entity type.

    Raises `DefinitionError` when declared wrongly (bad name, composite key, a timestamp column
    that is not a timestamp, a table that is its own child)."""

    name: str
    table: sa.Table
    terminal: ColumnElement[bool]
    timestamp: str
    children: tuple[Child, ...] = ()
    blockers: tuple[Blocker, ...] = ()
    rbac_entity_type: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not NAME_RE.match(self.name):
            raise errors.DefinitionError(
                f"pruner name {self.name!r} must be lowercase letters, digits and _"
            )
        object.__setattr__(self, "table", as_table(self.table))
        object.__setattr__(self, "children", tuple(self.children))
        object.__setattr__(self, "blockers", tuple(self.blockers))
        single_key(self.table)
        if not isinstance(self.terminal, ColumnElement):
            raise errors.DefinitionError(
                f"pruner {self.name}: terminal must be a SQL condition (use sa.true() for "
                "append-only tables)"
            )
        object.__setattr__(self, "terminal", inline_constants(self.terminal))
        ts = self.table.c.get(self.timestamp)
        if ts is None or not isinstance(ts.type, sa.DateTime):
            raise errors.DefinitionError(
                f"pruner {self.name}: {self.table.name}.{self.timestamp} is not a timestamp column"
            )
        deps: tuple[Child | Blocker, ...] = (*self.children, *self.blockers)
        for dep in deps:
            if dep.table is self.table:
                raise errors.DefinitionError(f"pruner {self.name}: a table cannot be its own child")

    @property
    def key(self) -> sa.Column[Any]:
        return single_key(self.table)

    @property
    def ts(self) -> sa.Column[Any]:
        return self.table.c[self.timestamp]

    @property
    def has_rbac(self) -> bool:
        return bool(self.rbac_entity_type or any(c.rbac_entity_type for c in self.children))

    @property
    def tables(self) -> list[str]:
        """Tables a prune deletes from, in the order it reports them."""
        names = [c.table.name for c in self.children]
        if self.has_rbac:
            names.append(RBAC_TABLE.name)
        return [self.table.name, *names]
