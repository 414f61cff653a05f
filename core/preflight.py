"""Preflight: what a pruner's plan makes PostgreSQL do on this database, before the first prune.

For one pruner, on the live catalog:

* every column a prune (or its preview) looks rows up by that no index leads: the foreign keys
  into each table of the plan (`Plan.unindexed`), the FK-less columns of Links, of declared
  Blockers without a foreign key and of Mentions — each with the planner's row estimate of the
  table behind it (`pg_class.reltuples`, as the catalog reads it; never a count(*)) and the
  statement that fixes it;
* the partial index the candidate scan wants: `(boundary, key…) WHERE <terminal>`, compiled from
  the declaration with its literal values, and the indexes that already lead with the boundary.

Nothing here changes the database: the statements are offered to the operator, never run.

    pf = await preflight(engine, await registry.resolve(engine, "sessions"))
    pf.to_dict()   # {"entity", "model", "unindexed": [...], "candidate_index": {...}}
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from core.db import Database, transaction
from core.repository.pruner import Pruner
from core.repository.pruner.catalog import TableFacts
from core.repository.pruner.plan import Plan
from core.repository.pruner.planner import read_plan


@dataclass(frozen=True)
class Unindexed:
    """`table(columns)` is looked up for every pruned row, and no valid, non-partial index leads
    with those columns: PostgreSQL scans the table. `rows` is the planner's estimate of its
    size (-1: never analyzed)."""

    table: str
    columns: tuple[str, ...]
    kind: str  # "foreign key" | "link" | "blocker" | "mention"
    what: str  # the reference, as an operator reads it
    rows: int
    fix: str  # CREATE INDEX CONCURRENTLY … (offered, never run)


@dataclass(frozen=True)
class CandidateIndex:
    """The partial index the candidate scan of the pruner can use: the terminal rows by
    boundary, then key (ordered, so `ORDER BY boundary, key LIMIT n` reads only what it takes)."""

    table: str
    columns: tuple[str, ...]
    where: str | None  # the terminal condition with literal values (None: every row)
    statement: str
    rows: int  # estimate of the table's rows
    existing: tuple[str, ...] = ()  # indexes that already lead with the boundary column


@dataclass(frozen=True)
class Preflight:
    entity: str
    model: str
    unindexed: list[Unindexed] = field(default_factory=list)
    candidate_index: CandidateIndex | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"entity": self.entity, "model": self.model,
                "unindexed": [asdict(u) for u in self.unindexed],
                "candidate_index": None if self.candidate_index is None
                else asdict(self.candidate_index)}

    def lines(self) -> list[str]:
        """The facts as lines an operator reads."""
        out = [f"{self.entity} ({self.model or 'no model'}):"]
        for u in self.unindexed:
            out.append(f"  unindexed: {u.table}({', '.join(u.columns)}) ~{u.rows:,} rows, "
                       f"{u.kind} {u.what}; fix: {u.fix}")
        c = self.candidate_index
        if c is not None:
            have = f" (indexes on {c.columns[0]}: {', '.join(c.existing)})" if c.existing else ""
            out.append(f"  candidate scan: {c.statement}{have}")
        return out


# For each (table, columns): the table's row estimate and whether a valid, non-partial index
# leads with exactly those columns, in any order (what a `col = ANY(…)` lookup can use).
_LEADS = sa.text("""
SELECT r.ord, coalesce(c.reltuples::bigint, -1) AS rows,
       EXISTS (SELECT 1 FROM pg_index i
               WHERE i.indrelid = c.oid AND i.indisvalid AND i.indpred IS NULL
                 AND cardinality(att.nums) = cardinality(string_to_array(r.cols, ','))
                 AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(att.nums)]
                     @> att.nums) AS indexed
FROM unnest(CAST(:tables AS text[]), CAST(:cols AS text[])) WITH ORDINALITY AS r(tbl, cols, ord)
JOIN pg_class c ON c.oid = to_regclass(r.tbl)
CROSS JOIN LATERAL (SELECT coalesce(array_agg(a.attnum), '{}')::int2[] AS nums
                    FROM pg_attribute a
                    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                      AND a.attname = ANY(string_to_array(r.cols, ','))) AS att
ORDER BY r.ord
""")

_BOUNDARY_INDEXES = sa.text("""
SELECT i.indexrelid::regclass::text AS name
FROM pg_index i
WHERE i.indrelid = to_regclass(:tbl) AND i.indisvalid
  AND i.indkey[0] = (SELECT a.attnum FROM pg_attribute a
                     WHERE a.attrelid = i.indrelid AND a.attname = :col)
ORDER BY 1
""")


_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


def _quote(name: str) -> str:
    return _DIALECT.identifier_preparer.quote(name)


def _index_fix(table: str, cols: tuple[str, ...]) -> str:
    return f"CREATE INDEX CONCURRENTLY ON {table} ({', '.join(_quote(c) for c in cols)});"


def literal_sql(cond: sa.ColumnElement[Any]) -> str:
    """A declared condition as PostgreSQL text with its values inlined (declared constants
    only: user input never reaches a declaration)."""
    return str(cond.compile(dialect=_DIALECT, compile_kwargs={"literal_binds": True}))


def candidate_index(plan: Plan) -> CandidateIndex:
    """The partial index `(boundary, key…) WHERE <terminal>` for the plan's pruned table."""
    p = plan.pruner
    facts = plan.root.facts
    cols = (p.timestamp, *plan.key)
    where: str | None = literal_sql(p.terminal)
    if where in ("true", "1 = 1"):
        where = None
    name = f"ix_{facts.relname}_prune_{p.name}"[:63]
    stmt = (f"CREATE INDEX CONCURRENTLY {_quote(name)} ON {facts.name} "
            f"({', '.join(_quote(c) for c in cols)})" + (f" WHERE {where}" if where else "") + ";")
    return CandidateIndex(table=facts.name, columns=cols, where=where, statement=stmt,
                          rows=facts.rows)


def _tables_of(plan: Plan) -> dict[str, TableFacts]:
    out = dict(plan.catalog.tables)
    for s in plan.steps:
        out.setdefault(s.facts.name, s.facts)
    return out


async def preflight(db: Database, pruner: Pruner) -> Preflight:
    """The unindexed lookups of `pruner`'s plan on this database and the candidate index it
    wants (see the module's docstring). Raises like a plan does: DefinitionError when the
    declaration does not fit the catalog, SchemaMissing when a table is missing."""
    async with transaction(db, f"preflight of {pruner.name}", snapshot=True) as conn:
        # a fresh read: the cached plans' fingerprint does not cover indexes, and an index
        # created since is exactly what a preflight must see
        plan, _ = await read_plan(conn, pruner)
        facts = _tables_of(plan)
        found: list[Unindexed] = []
        seen: set[tuple[str, tuple[str, ...]]] = set()
        for fk in plan.unindexed:
            if (fk.table, fk.columns) in seen:
                continue
            seen.add((fk.table, fk.columns))
            rows = facts[fk.table].rows if fk.table in facts else -1
            found.append(Unindexed(fk.table, fk.columns, "foreign key", fk.describe(), rows,
                                   fk.index_fix))
        # FK-less lookups: links, blockers without a foreign key, mentions (previews). Each
        # probe is covered by an index that leads with any one of its column sets.
        probes: list[tuple[str, tuple[tuple[str, ...], ...], str, str]] = []
        steps = {s.link_label: s for s in plan.steps if s.kind == "link"}
        for link in plan.pruner.links:
            step = steps.get(link.label)
            if step is None:
                continue
            sets: tuple[tuple[str, ...], ...] = ((link.id_column,),) \
                if link.type_column is None else ((link.type_column, link.id_column),
                                                  (link.id_column,))
            probes.append((step.facts.name, sets, "link", link.label))
        for b in plan.blocks:
            if b.fk is None and b.columns is not None:
                probes.append((b.table.name, (b.columns,), "blocker", b.reason))
        for _, m in plan.mentions:
            probes.append((m.table.name, ((m.column,),), "mention",
                           f"{m.label} (counted by previews)"))
        unique: dict[tuple[str, tuple[str, ...]], tuple[str, tuple[tuple[str, ...], ...],
                                                        str, str]] = {}
        for probe in probes:
            unique.setdefault((probe[0], probe[1][0]), probe)
        probes = [x for k, x in unique.items() if k not in seen]
        flat = [(t, cols) for t, sets, *_ in probes for cols in sets]
        if flat:
            result = iter((await conn.execute(_LEADS, {
                "tables": [t for t, _ in flat], "cols": [",".join(c) for _, c in flat]})).all())
            for table, sets, kind, what in probes:
                answers = [next(result) for _ in sets]
                if not any(r.indexed for r in answers):
                    found.append(Unindexed(table, sets[0], kind, what, int(answers[0].rows),
                                           _index_fix(table, sets[0])))
        index = candidate_index(plan)
        existing = [r.name for r in await conn.execute(
            _BOUNDARY_INDEXES, {"tbl": plan.root.facts.name, "col": pruner.timestamp})]
    index = CandidateIndex(**{**asdict(index), "existing": tuple(existing)})
    return Preflight(entity=pruner.name, model=pruner.model, unindexed=found,
                     candidate_index=index)
