"""Pruner: the bulk sweep of rows that reached a terminal state.

A `Pruner` is declared once per entity (table, terminal condition, timestamp, children, blockers,
RBAC type); `execute_pruner` runs one capped sweep of it in one transaction and one statement:

    WITH cand AS (SELECT pk, ts FROM t WHERE <terminal> AND ts < :before AND NOT <blocked>
                  ORDER BY ts, pk LIMIT :limit FOR UPDATE OF t SKIP LOCKED),
         del_<child> AS (DELETE FROM child WHERE fk IN (SELECT pk FROM cand) RETURNING …),
         del_rbac AS (DELETE FROM association_scopes_entities WHERE <both directions>),
         del_parent AS (DELETE FROM t WHERE pk IN (SELECT pk FROM cand) RETURNING …)
    SELECT array_agg(ids ORDER BY ts, pk), counts…

Ids never travel as one bind parameter each (asyncpg caps a statement at 32,767 parameters):
selected ids are bound as a single array.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.visitors import replacement_traverse

from core import errors
from core.db import DB_ERRORS, Database, transaction, translate
from core.reference_schema import association_scopes_entities as rbac

DEFAULT_LIMIT = 1_000
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.InvalidArgument(f"{name} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise errors.InvalidArgument(f"{name} must be at least 1, got {value}")
    return value


@dataclass(frozen=True)
class PruneSettings:
    """Operational bounds. Defaults come from PRUNER_MAX_LIMIT / PRUNER_LOCK_TIMEOUT_MS /
    PRUNER_STATEMENT_TIMEOUT_MS."""

    max_limit: int = 100_000
    lock_timeout_ms: int = 5_000
    statement_timeout_ms: int = 300_000

    @classmethod
    def from_env(cls) -> PruneSettings:
        return cls(
            max_limit=_env_int("PRUNER_MAX_LIMIT", cls.max_limit),
            lock_timeout_ms=_env_int("PRUNER_LOCK_TIMEOUT_MS", cls.lock_timeout_ms),
            statement_timeout_ms=_env_int("PRUNER_STATEMENT_TIMEOUT_MS", cls.statement_timeout_ms),
        )


def _as_table(table: sa.Table | type) -> sa.Table:
    if isinstance(table, sa.Table):
        return table
    mapped = getattr(table, "__table__", None)
    if isinstance(mapped, sa.Table):
        return mapped
    raise errors.DefinitionError(f"{table!r} is neither a Table nor a mapped class")


def _columns(table: sa.Table, names: str | Sequence[str], what: str) -> tuple[str, ...]:
    names = (names,) if isinstance(names, str) else tuple(names)
    if not names:
        raise errors.DefinitionError(f"{what} on {table.name} names no column")
    for name in names:
        if name not in table.c:
            raise errors.DefinitionError(f"{what}: table {table.name} has no column {name!r}")
    return names


def single_key(table: sa.Table) -> sa.Column:
    """The table's one primary-key column; composite or missing keys are a definition error."""
    pk = list(table.primary_key.columns)
    if len(pk) != 1:
        cols = ", ".join(c.name for c in pk) or "none"
        raise errors.DefinitionError(
            f"table {table.name} has primary key ({cols}); this needs a single-column primary key"
        )
    return pk[0]


@dataclass(frozen=True)
class Child:
    """A table whose rows reference the parent and are deleted before it (and counted)."""

    table: sa.Table
    on: tuple[str, ...]
    rbac_entity_type: str | None = None

    def __init__(self, table: sa.Table | type, on: str | Sequence[str],
                 rbac_entity_type: str | None = None) -> None:
        t = _as_table(table)
        object.__setattr__(self, "table", t)
        object.__setattr__(self, "on", _columns(t, on, "Child"))
        object.__setattr__(self, "rbac_entity_type", rbac_entity_type)
        if rbac_entity_type is not None:
            single_key(t)

    def references(self, keys: ColumnElement[Any]) -> ColumnElement[bool]:
        """Rows pointing at any of `keys` (an array expression) through any of the FK columns.

        `= ANY(array)` plans as one bitmap index scan per column, visiting each heap page once;
        `IN (SELECT …)` would be a semi-join per table, and an OR of two IN lists a full scan."""
        return sa.or_(*(self.table.c[c] == sa.any_(keys) for c in self.on))


@dataclass(frozen=True)
class Blocker:
    """A table whose surviving rows keep the parent out of the candidates (e.g. ON DELETE RESTRICT
    children, or children still alive). `where` narrows which rows block; None means any row."""

    table: sa.Table
    on: str
    where: ColumnElement[bool] | None = None
    reason: str = ""

    def __init__(self, table: sa.Table | type, on: str, where: ColumnElement[bool] | None = None,
                 reason: str = "") -> None:
        t = _as_table(table)
        object.__setattr__(self, "table", t)
        object.__setattr__(self, "on", _columns(t, on, "Blocker")[0])
        object.__setattr__(self, "where", None if where is None else _inline_constants(where))
        object.__setattr__(self, "reason", reason or f"has rows in {t.name}")

    def blocks(self, key: ColumnElement[Any]) -> ColumnElement[bool]:
        cond = self.table.c[self.on] == key
        if self.where is not None:
            cond = sa.and_(cond, self.where)
        return sa.exists().where(cond)


@dataclass(frozen=True)
class Pruner:
    """The declaration of one prunable entity. Immutable: a caller can bound a sweep by `before` and
    `limit`, never widen which rows count as terminal."""

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
        object.__setattr__(self, "table", _as_table(self.table))
        object.__setattr__(self, "children", tuple(self.children))
        object.__setattr__(self, "blockers", tuple(self.blockers))
        single_key(self.table)
        if not isinstance(self.terminal, ColumnElement):
            raise errors.DefinitionError(
                f"pruner {self.name}: terminal must be a SQL condition (use sa.true() for "
                "append-only tables)"
            )
        object.__setattr__(self, "terminal", _inline_constants(self.terminal))
        ts = self.table.c.get(self.timestamp)
        if ts is None or not isinstance(ts.type, sa.DateTime):
            raise errors.DefinitionError(
                f"pruner {self.name}: {self.table.name}.{self.timestamp} is not a timestamp column"
            )
        for dep in (*self.children, *self.blockers):
            if dep.table is self.table:
                raise errors.DefinitionError(f"pruner {self.name}: a table cannot be its own child")

    # -- the pieces every query of this entity shares ------------------------------------------
    @property
    def key(self) -> sa.Column:
        return single_key(self.table)

    @property
    def ts(self) -> sa.Column:
        return self.table.c[self.timestamp]

    @property
    def tables(self) -> list[str]:
        """Tables a prune deletes from, in the order it reports them."""
        names = [c.table.name for c in self.children]
        if self.rbac_entity_type or any(c.rbac_entity_type for c in self.children):
            names.append(rbac.name)
        return [self.table.name, *names]

    def aged(self, before: datetime, ids: Sequence[Any] | None = None) -> ColumnElement[bool]:
        """Terminal and older than the cutoff (NULL timestamps never compare true), and one of
        `ids` when they are given."""
        cond = sa.and_(self.terminal, self.ts < self.cutoff_param(before))
        if ids is not None:
            cond = sa.and_(cond, self.key == sa.any_(self.ids_param(ids)))
        return cond

    def cutoff_param(self, before: datetime) -> sa.BindParameter[datetime]:
        if not getattr(self.ts.type, "timezone", False):
            before = before.astimezone(UTC).replace(tzinfo=None)  # a naive column holds UTC
        return sa.bindparam("before", before, type_=self.ts.type)

    def candidates(self, before: datetime, limit: int | None = None,
                   ids: Sequence[Any] | None = None) -> sa.Select:
        """Oldest-first candidates: terminal, older than `before`, not blocked."""
        q = sa.select(self.key.label("id"), self.ts.label("ts")).where(self.aged(before, ids))
        # One NOT EXISTS per blocker, ANDed: PostgreSQL turns each into an anti-join using the
        # blocker's FK index. NOT (a OR b) would become a hashed subplan that reads the whole
        # blocker table on every call, however small the prune.
        q = q.where(*(sa.not_(b.blocks(self.key)) for b in self.blockers))
        q = q.order_by(self.ts, self.key)
        return q if limit is None else q.limit(sa.bindparam("limit", limit, type_=sa.Integer))

    def ids_param(self, ids: Sequence[Any]) -> sa.BindParameter[Any]:
        return sa.bindparam("ids", list(ids), type_=ARRAY(self.key.type))

    def rbac_match(self, keys_text: ColumnElement[Any] | None,
                   child_keys_text: dict[str, ColumnElement[Any]]) -> ColumnElement[bool] | None:
        """RBAC rows of the pruned parents and children, where they are the entity or the scope.

        `keys_text` / values of `child_keys_text` are text[] expressions of the pruned ids.
        Ids are compared as text because that is how the association table stores them.
        """
        arms: list[ColumnElement[bool]] = []
        pairs = []
        if keys_text is not None and self.rbac_entity_type:
            pairs.append((self.rbac_entity_type, keys_text))
        pairs.extend(child_keys_text.items())
        for etype, ids in pairs:
            arms.append(sa.and_(rbac.c.entity_type == etype, rbac.c.entity_id == sa.any_(ids)))
            arms.append(sa.and_(rbac.c.scope_type == etype, rbac.c.scope_id == sa.any_(ids)))
        return sa.or_(*arms) if arms else None

    def coerce_ids(self, ids: Iterable[Any]) -> list[Any]:
        """Validate operator-supplied ids against the key type, keeping order, dropping repeats."""
        if isinstance(ids, str | bytes):
            raise errors.InvalidArgument("ids must be a list of ids, not one string")
        if not isinstance(ids, Iterable):
            raise errors.InvalidArgument(f"ids must be a list of ids, got {type(ids).__name__}")
        out: dict[Any, None] = {}
        ptype = self.key.type.python_type if _has_python_type(self.key.type) else str
        bits = _int_bits(self.key.type)
        for raw in ids:
            value = _coerce_one(raw, ptype, self.name)
            if bits and not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
                raise errors.InvalidArgument(
                    f"{raw!r} is not a valid {self.name} id (out of range for {bits}-bit keys)")
            out[value] = None
        return list(out)


def _inline_constants(cond: ColumnElement[bool]) -> ColumnElement[bool]:
    """The terminal condition with its declared constants rendered as SQL literals.

    As bound parameters the planner could not prove that a (generic, prepared) plan matches a
    partial index like `... WHERE status IN ('TERMINATED', 'CANCELLED')`; as literals every plan
    can use it. The values are the pruner's own declaration, never user input."""
    def inline(element: Any) -> Any:
        if isinstance(element, BindParameter):
            return element.render_literal_execute()
        return None

    return replacement_traverse(cond, {}, inline)


def _int_bits(t: sa.types.TypeEngine[Any]) -> int:
    """The width of an integer key column (0 for other types)."""
    if isinstance(t, sa.BigInteger):
        return 64
    if isinstance(t, sa.SmallInteger):
        return 16
    return 32 if isinstance(t, sa.Integer) else 0


def _has_python_type(t: sa.types.TypeEngine[Any]) -> bool:
    try:
        t.python_type  # noqa: B018
    except NotImplementedError:
        return False
    return True


def _coerce_one(raw: Any, ptype: type, entity: str) -> Any:
    shown = repr(raw) if len(repr(raw)) <= 60 else repr(raw)[:57] + "..."
    try:
        if ptype is uuid.UUID:
            if isinstance(raw, uuid.UUID):
                return raw
            if isinstance(raw, str):
                return uuid.UUID(raw.strip())
        elif ptype is int:
            if isinstance(raw, int) and not isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and re.fullmatch(r"\s*[+-]?\d{1,20}\s*", raw):
                return int(raw)
        elif ptype is str:
            if isinstance(raw, str) and raw != "" and "\x00" not in raw:
                return raw
        elif isinstance(raw, ptype):
            return raw
    except (ValueError, AttributeError):
        pass
    raise errors.InvalidArgument(f"{shown} is not a valid {entity} id ({ptype.__name__})")


# ------------------------------------------------------------------------------ per-call checks
def check_before(before: Any, *, now: datetime | None = None) -> datetime:
    if not isinstance(before, datetime):
        raise errors.InvalidArgument(
            f"before must be a timezone-aware datetime, got {type(before).__name__}"
        )
    if before.tzinfo is None or before.utcoffset() is None:
        raise errors.InvalidArgument(
            "before must be timezone-aware (e.g. 2026-01-01T00:00:00+00:00); naive times are "
            "ambiguous"
        )
    try:
        before.astimezone(UTC)
    except OverflowError:
        raise errors.InvalidArgument(f"before ({before.isoformat()}) is out of range") from None
    now = now or datetime.now(UTC)
    if before > now + timedelta(seconds=1):
        raise errors.InvalidArgument(
            f"before ({before.isoformat()}) is in the future; a cutoff must be now or earlier"
        )
    return before


def check_limit(limit: Any, settings: PruneSettings) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise errors.InvalidArgument(f"limit must be a whole number, got {limit!r}")
    if not 1 <= limit <= settings.max_limit:
        raise errors.InvalidArgument(
            f"limit must be between 1 and {settings.max_limit:,} (got {limit:,})"
        )
    return limit


def check_flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise errors.InvalidArgument(f"{name} must be true or false, got {value!r}")
    return value


# ------------------------------------------------------------------------------ result
@dataclass(frozen=True)
class PruneResult:
    entity: str
    cutoff: datetime
    limit: int
    count: int
    ids: list[Any]
    deleted: dict[str, int]
    cascade_rbac: bool = True
    dry_run: bool = False
    skipped: list[Any] = field(default_factory=list)  # requested ids that did not qualify
    run_id: int | None = None  # set by the journaled workflows (core.operations)
    pruned_at: datetime | None = None  # when the journal says it happened

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["cutoff"] = self.cutoff.isoformat()
        d["pruned_at"] = self.pruned_at.isoformat() if self.pruned_at else None
        d["ids"] = [str(i) if isinstance(i, uuid.UUID) else i for i in self.ids]
        d["skipped"] = [str(i) if isinstance(i, uuid.UUID) else i for i in self.skipped]
        return d

    def to_frame(self):  # noqa: ANN201 - pandas is imported lazily
        import pandas as pd

        return pd.DataFrame({"entity": self.entity, "id": [str(i) for i in self.ids]})


# ------------------------------------------------------------------------------ the statement
def id_array(col: ColumnElement[Any], source: sa.FromClause) -> ColumnElement[Any]:
    return sa.func.array(sa.select(col).select_from(source).scalar_subquery())


def text_ids_once(col: ColumnElement[Any], source: sa.FromClause, name: str,
                   ) -> ColumnElement[Any]:
    """The ids as one text[], built once in a CTE: the RBAC delete uses it twice (entity and
    scope), and at a million ids casting and collecting them twice is a second of work."""
    ids = sa.select(sa.func.array(sa.select(sa.cast(col, sa.Text)).select_from(source)
                                  .scalar_subquery()).label("a")).cte(name)
    return sa.cast(sa.select(ids.c.a).scalar_subquery(), ARRAY(sa.Text))


def prune_statement(
    p: Pruner, before: datetime, limit: int, *, cascade_rbac: bool,
    ids: Sequence[Any] | None = None, archive_run_id: int | None = None,
) -> tuple[sa.Select, list[str]]:
    """The single statement of a prune, and the tables whose counts follow `ids` in its row.

    Every delete matches `= ANY(array(SELECT id FROM cand))` (see `Child.references`).
    """
    cand = (p.candidates(before, limit, ids)
            .with_for_update(of=p.table, skip_locked=True).cte("cand"))
    cand_ids = id_array(cand.c.id, cand)
    counts: dict[str, ColumnElement[Any]] = {}
    child_keys_text: dict[str, ColumnElement[Any]] = {}
    for i, child in enumerate(p.children):
        ret = [single_key(child.table)] if child.rbac_entity_type else [sa.literal(1)]
        d = (sa.delete(child.table).where(child.references(cand_ids))
             .returning(ret[0].label("k")).cte(f"del_child_{i}"))
        counts[child.table.name] = sa.select(sa.func.count()).select_from(d).scalar_subquery()
        if child.rbac_entity_type and cascade_rbac:
            child_keys_text[child.rbac_entity_type] = text_ids_once(d.c.k, d, f"txt_{i}")
    match = (p.rbac_match(text_ids_once(cand.c.id, cand, "txt_cand"), child_keys_text)
             if cascade_rbac else None)
    if match is not None:
        d = sa.delete(rbac).where(match).returning(sa.literal(1).label("k")).cte("del_rbac")
        counts[rbac.name] = sa.select(sa.func.count()).select_from(d).scalar_subquery()
    # Full rows come back only when they are archived; otherwise just what the result needs.
    returned = p.table.c if archive_run_id is not None else (p.key, p.ts)
    parent = (sa.delete(p.table).where(p.key == sa.any_(cand_ids)).returning(*returned)
              .cte("del_parent"))
    pk, ts = parent.c[p.key.name], parent.c[p.timestamp]
    cols: list[ColumnElement[Any]] = [
        sa.select(sa.func.array_agg(aggregate_order_by(pk, ts, pk))).select_from(parent)
        .scalar_subquery().label("ids"),
    ]
    if archive_run_id is not None:
        from core.journal import archive  # the journal owns the archive table

        arch = (sa.insert(archive).from_select(
            ["run_id", "entity_id", "row"],
            sa.select(sa.literal(archive_run_id, sa.BigInteger), sa.cast(pk, sa.Text),
                      sa.func.to_jsonb(parent.table_valued())).select_from(parent),
        ).returning(sa.literal(1).label("k")).cte("archived"))
        cols.append(sa.select(sa.func.count()).select_from(arch).scalar_subquery().label("archived"))
    cols += [c.label(f"n_{i}") for i, c in enumerate(counts.values())]
    return sa.select(*cols), list(counts)


async def set_local_settings(conn: AsyncConnection, s: PruneSettings) -> None:
    """SET LOCAL the timeouts (bound values via set_config; they end with the transaction).

    JIT is switched off too: our statements are index-driven and short, and the planner's cost
    estimates for LIMITed scans behind anti-joins routinely trip the JIT threshold, which then
    spends more time compiling than the query takes."""
    await conn.execute(
        sa.select(sa.func.set_config("lock_timeout", str(s.lock_timeout_ms), True),
                  sa.func.set_config("statement_timeout", str(s.statement_timeout_ms), True),
                  sa.func.set_config("jit", "off", True))
    )


class _Rehearsal(Exception):
    """Raised inside the transaction of a dry run so that it rolls back."""


async def execute_pruner(
    db: Database,
    pruner: Pruner,
    *,
    before: datetime,
    limit: int | None = None,
    cascade_rbac: bool = True,
    ids: Iterable[Any] | None = None,
    dry_run: bool = False,
    archive_run_id: int | None = None,
    settings: PruneSettings | None = None,
) -> PruneResult:
    """Delete up to `limit` of the oldest terminal rows older than `before`, in one transaction.

    `limit` defaults to 1,000, or to the number of `ids` when they are given. `ids` restricts the
    sweep to those rows (each still has to qualify; the rest come back as `skipped`). `dry_run`
    runs the exact prune and rolls it back. Errors arrive as `core.errors.PrunerError`
    subclasses and leave every table as it was.
    """
    settings = settings or PruneSettings.from_env()
    before = check_before(before)
    cascade_rbac = check_flag(cascade_rbac, "cascade_rbac")
    check_flag(dry_run, "dry_run")
    wanted: list[Any] | None = None
    if ids is not None:
        wanted = pruner.coerce_ids(ids)
        if not wanted:
            raise errors.InvalidArgument("no ids given")
        if len(wanted) > settings.max_limit:
            raise errors.InvalidArgument(
                f"{len(wanted):,} ids given; at most {settings.max_limit:,} per prune"
            )
        limit = len(wanted) if limit is None else limit
    limit = check_limit(DEFAULT_LIMIT if limit is None else limit, settings)
    stmt, tables = prune_statement(pruner, before, limit, cascade_rbac=cascade_rbac, ids=wanted,
                                   archive_run_id=archive_run_id)
    doing = f"{'rehearsal of ' if dry_run else ''}prune of {pruner.name}"
    row = None
    try:
        async with transaction(db) as conn:
            await set_local_settings(conn, settings)
            row = (await conn.execute(stmt)).one()
            if dry_run:
                raise _Rehearsal
    except _Rehearsal:
        pass
    except DB_ERRORS as exc:
        raise translate(exc, doing) from exc
    assert row is not None
    got = list(row.ids or [])
    n_tables = row[-len(tables):] if tables else []
    deleted = {pruner.table.name: len(got), **dict(zip(tables, n_tables, strict=True))}
    gone = set(got)
    skipped = [] if wanted is None else [i for i in wanted if i not in gone]
    return PruneResult(
        entity=pruner.name, cutoff=before, limit=limit, count=len(got), ids=got, deleted=deleted,
        cascade_rbac=cascade_rbac, dry_run=dry_run, skipped=skipped,
    )
