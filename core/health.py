"""Database health facts that decide whether pruning stays cheap: FK indexes, plans, table sizes.

Everything is read from pg_catalog / the statistics views with fixed SQL and bound values. Table
names only ever come from the catalog or from declared `sa.Table`s, never from free text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.expression import Executable

from core.db import Database, transaction
from core.repository.pruner import Pruner, SweepRequest
from core.repository.pruner.plan import Plan
from core.repository.pruner.planner import current_plan
from core.repository.pruner.statements import candidates


@dataclass(frozen=True)
class MissingIndex:
    """A foreign key whose columns lead no index: every delete of a referenced row scans it."""

    table: str
    columns: tuple[str, ...]
    references: str


@dataclass(frozen=True)
class CandidatePlan:
    entity: str
    plan: str  # EXPLAIN text of the candidate query, as the server would run it
    full_scans: tuple[str, ...]  # tables read by a Seq Scan
    ok: bool


@dataclass(frozen=True)
class TableStats:
    name: str
    total_bytes: int
    live_tuples: int
    dead_tuples: int
    last_vacuum: datetime | None
    last_autovacuum: datetime | None


# An FK is covered when some valid, non-partial index starts with exactly its columns (any order):
# that is what the RI trigger's `WHERE fk = $1` lookups and our cascades can use.
_MISSING_FK_INDEXES = sa.text("""
SELECT c.conrelid::regclass::text AS tbl,
       ARRAY(SELECT a.attname::text
             FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS cols,
       c.confrelid::regclass::text AS ref
FROM pg_constraint c
JOIN pg_namespace n ON n.oid = c.connamespace
WHERE c.contype = 'f'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_%'
  AND NOT EXISTS (
      SELECT 1 FROM pg_index i
      WHERE i.indrelid = c.conrelid AND i.indisvalid AND i.indpred IS NULL
        AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)]
            @> c.conkey)
ORDER BY 1, 2
""")

_TABLE_STATS = sa.text("""
SELECT t.name, coalesce(pg_total_relation_size(c.oid), 0) AS total_bytes,
       coalesce(s.n_live_tup, 0) AS live, coalesce(s.n_dead_tup, 0) AS dead,
       s.last_vacuum, s.last_autovacuum
FROM unnest(CAST(:names AS text[])) WITH ORDINALITY AS t(name, ord)
LEFT JOIN pg_class c ON c.oid = to_regclass(t.name)
LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
ORDER BY t.ord
""")


class _Explain(Executable, ClauseElement):
    """`EXPLAIN (FORMAT JSON) <select>`, compiled by SQLAlchemy so parameters stay bound."""

    inherit_cache = False

    def __init__(self, stmt: sa.Select[Any]) -> None:
        self.stmt = stmt


@compiles(_Explain, "postgresql")
def _compile_explain(element: _Explain, compiler: SQLCompiler, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.stmt, **kw)


async def missing_fk_indexes(db: Database) -> list[MissingIndex]:
    """FK columns in the current database that no index leads with."""
    rows = await _fetch(db, _MISSING_FK_INDEXES, {}, "listing foreign keys without an index")
    return [MissingIndex(table=r.tbl, columns=tuple(r.cols), references=r.ref) for r in rows]


def _scans(node: dict[str, Any]) -> Iterator[str]:
    if node.get("Node Type") == "Seq Scan":
        yield node.get("Relation Name", "?")
    for sub in node.get("Plans", ()):
        yield from _scans(sub)


async def plan_of(db: Database, pruner: Pruner) -> Plan:
    """The pruner's plan on this database (declaration reconciled with the live catalog).
    Raises DefinitionError when they do not fit, SchemaMissing when a table is missing."""
    async with transaction(db, f"reading the catalog for {pruner.name}") as conn:
        return await current_plan(conn, pruner)


async def candidate_plan(db: Database, req: SweepRequest) -> CandidatePlan:
    """The plan of the request's candidate query (EXPLAIN without ANALYZE: nothing runs)."""
    pruner = req.pruner
    async with transaction(db, f"explaining the {pruner.name} candidate query") as conn:
        plan = await current_plan(conn, pruner)
        rows = list((await conn.execute(_Explain(candidates(plan, req)))).all())
    raw = rows[0][0]
    doc = json.loads(raw) if isinstance(raw, str) else raw
    root = doc[0]["Plan"]
    full = tuple(dict.fromkeys(_scans(root)))
    return CandidatePlan(entity=pruner.name, plan=_render(root), full_scans=full, ok=not full)


def _render(node: dict[str, Any], depth: int = 0) -> str:
    """A compact text form of a JSON plan: one node a line, indented, with estimates."""
    what = node.get("Node Type", "?")
    for key in ("Index Name", "Relation Name", "CTE Name"):
        if key in node:
            what += f" {'using' if key == 'Index Name' else 'on'} {node[key]}"
    line = f"{'  ' * depth}-> {what} (cost={node.get('Total Cost')} rows={node.get('Plan Rows')})"
    return "\n".join([line, *(_render(sub, depth + 1) for sub in node.get("Plans", ()))])


async def table_stats(db: Database, tables: list[str]) -> list[TableStats]:
    """Size and tuple counts of the named tables (a name that does not exist reports zeros)."""
    names = [t.name if isinstance(t, sa.Table) else str(t) for t in tables]
    rows = await _fetch(db, _TABLE_STATS, {"names": names}, "reading table statistics")
    return [TableStats(name=r.name, total_bytes=int(r.total_bytes), live_tuples=int(r.live),
                       dead_tuples=int(r.dead), last_vacuum=r.last_vacuum,
                       last_autovacuum=r.last_autovacuum) for r in rows]


async def server_version(db: Database) -> str:
    rows = await _fetch(db, sa.select(sa.func.current_setting("server_version")), None,
                        "reading the server version")
    return str(rows[0][0])


async def _fetch(db: Database, stmt: Any, params: dict[str, Any] | None,
                 doing: str) -> list[sa.Row[Any]]:
    async with transaction(db, doing) as conn:
        result = await conn.execute(stmt, params) if params else await conn.execute(stmt)
        return list(result.all())
