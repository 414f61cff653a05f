"""The live catalog: what PostgreSQL says about a table a prune deletes from.

`read_catalog(conn, table)` reads, from pg_catalog (never from the SQLAlchemy declaration), the
table and every table that references it, recursively: each foreign key pointing into that set
(columns in order, referenced columns, ON DELETE action, deferrable, the index that leads it),
each table's primary key, columns and types, partitioning, enabled row-level DELETE/UPDATE
triggers, row-level security and its policies, plus the session's TimeZone and whether the
current role bypasses RLS. All SQL here is fixed text with bound values.

`digest(conn, oids)` is a cheap fingerprint of the same catalog rows (one small query), so a
cached plan can be checked inside every prune's own transaction (see `planner`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core import errors

ON_DELETE = {"a": "no action", "r": "restrict", "c": "cascade", "n": "set null",
             "d": "set default"}

# tgtype bits (pg_trigger.h)
_ROW, _BEFORE, _DELETE, _UPDATE, _INSTEAD = 1, 2, 8, 16, 64


@dataclass(frozen=True)
class ForeignKey:
    """`table(columns) -> ref_table(ref_columns) ON DELETE on_delete`."""

    name: str
    table: str  # schema-qualified name of the referencing table
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str  # no action | restrict | cascade | set null | set default
    deferrable: bool
    index: str | None  # an index whose leading columns are exactly `columns`, if any

    def describe(self) -> str:
        return (f"{self.name}: {self.table}({', '.join(self.columns)}) -> "
                f"{self.ref_table}({', '.join(self.ref_columns)}) ON DELETE "
                f"{self.on_delete.upper()}")

    @property
    def index_fix(self) -> str:
        """The statement that gives this FK a leading index (for operators to run)."""
        return (f"CREATE INDEX CONCURRENTLY ON {self.table} "
                f"({', '.join(_quote(c) for c in self.columns)});")


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # format_type(): 'uuid', 'timestamp with time zone', 'date', …
    not_null: bool
    generated: bool  # GENERATED ALWAYS AS (…) STORED: never inserted


@dataclass(frozen=True)
class Trigger:
    name: str
    table: str
    before: bool
    events: tuple[str, ...]  # DELETE and/or UPDATE
    function: str

    def describe(self) -> str:
        when = "BEFORE" if self.before else "AFTER"
        return f"trigger {self.name} ({when} {' OR '.join(self.events)} ON {self.table}, " \
               f"{self.function}())"


@dataclass(frozen=True)
class Policy:
    name: str
    table: str
    command: str  # ALL, DELETE, UPDATE, SELECT, INSERT
    permissive: bool
    using: str | None


@dataclass(frozen=True)
class TableFacts:
    name: str  # schema-qualified, as regclass prints it
    schema: str
    relname: str
    oid: int
    partitioned: bool
    key: tuple[str, ...]  # primary key columns, in order ( () when there is none)
    partition_key: tuple[str, ...]
    columns: dict[str, Column]
    rows: int  # planner estimate (reltuples), -1 when never analyzed
    row_security: bool  # RLS enabled and it applies to the current role
    triggers: tuple[Trigger, ...] = ()
    policies: tuple[Policy, ...] = ()

    def column_type(self, name: str) -> str:
        return self.columns[name].type


@dataclass(frozen=True)
class Catalog:
    """The root table and every table that references it, directly or through others."""

    root: str
    tables: dict[str, TableFacts]
    foreign_keys: tuple[ForeignKey, ...]  # every FK pointing at a table of `tables`
    timezone: str
    fingerprint: str = ""
    by_oid: dict[int, str] = field(default_factory=dict)

    def references_to(self, table: str) -> list[ForeignKey]:
        return [fk for fk in self.foreign_keys if fk.ref_table == table]

    @property
    def oids(self) -> list[int]:
        return sorted(self.by_oid)


def _quote(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"' if not ident.isidentifier() or \
        ident.lower() != ident else ident


# resolved as PostgreSQL resolves the name in a query (the search_path, unless qualified)
_ROOT = sa.text("""
SELECT c.oid FROM pg_class c
WHERE c.oid = to_regclass(CASE WHEN CAST(:schema AS text) IS NULL THEN quote_ident(:name)
                          ELSE quote_ident(:schema) || '.' || quote_ident(:name) END)
  AND c.relkind IN ('r', 'p')
""")

_TREE = sa.text("""
WITH RECURSIVE tree(oid) AS (
    SELECT CAST(:root AS oid)
  UNION
    SELECT c.conrelid FROM pg_constraint c JOIN tree t ON c.confrelid = t.oid
    WHERE c.contype = 'f' AND c.conparentid = 0
)
SELECT oid FROM tree
""")

_FKS = sa.text("""
SELECT c.conname AS name, c.conrelid AS tbl, c.confrelid AS ref, c.confdeltype::text AS action,
       c.condeferrable AS deferrable,
       ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o)
         AS cols,
       ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o)
         AS ref_cols,
       (SELECT i.indexrelid::regclass::text FROM pg_index i
        WHERE i.indrelid = c.conrelid AND i.indisvalid AND i.indpred IS NULL
          AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)]
              @> c.conkey
        ORDER BY i.indexrelid LIMIT 1) AS idx
FROM pg_constraint c
WHERE c.contype = 'f' AND c.conparentid = 0 AND c.confrelid = ANY(CAST(:oids AS oid[]))
ORDER BY c.conrelid, c.conname
""")

_TABLES = sa.text("""
SELECT c.oid, c.oid::regclass::text AS name, n.nspname AS schema, c.relname AS relname,
       c.relkind = 'p' AS partitioned, c.reltuples::bigint AS rows,
       c.relrowsecurity AND (c.relforcerowsecurity OR c.relowner <> r.oid)
         AND NOT r.rolbypassrls AND NOT r.rolsuper AS row_security,
       coalesce(ARRAY(SELECT a.attname::text FROM pg_constraint p
                      CROSS JOIN LATERAL unnest(p.conkey) WITH ORDINALITY k(n, o)
                      JOIN pg_attribute a ON a.attrelid = p.conrelid AND a.attnum = k.n
                      WHERE p.conrelid = c.oid AND p.contype = 'p' ORDER BY k.o), '{}') AS key,
       coalesce(ARRAY(SELECT a.attname::text FROM pg_partitioned_table pt
                      CROSS JOIN LATERAL unnest(CAST(pt.partattrs AS int2[]))
                        WITH ORDINALITY k(n, o)
                      JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = k.n
                      WHERE pt.partrelid = c.oid ORDER BY k.o), '{}') AS partition_key
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_roles r ON r.rolname = current_user
WHERE c.oid = ANY(CAST(:oids AS oid[]))
""")

_COLUMNS = sa.text("""
SELECT a.attrelid AS oid, a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS not_null, a.attgenerated <> '' AS generated
FROM pg_attribute a
WHERE a.attrelid = ANY(CAST(:oids AS oid[])) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
""")

_TRIGGERS = sa.text("""
SELECT t.tgrelid AS oid, t.tgname::text AS name, t.tgtype AS type, p.proname::text AS function
FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
WHERE t.tgrelid = ANY(CAST(:oids AS oid[])) AND NOT t.tgisinternal AND t.tgenabled <> 'D'
ORDER BY t.tgrelid, t.tgname
""")

_POLICIES = sa.text("""
SELECT p.polrelid AS oid, p.polname::text AS name, p.polcmd::text AS cmd,
       p.polpermissive AS permissive, pg_get_expr(p.polqual, p.polrelid) AS using
FROM pg_policy p WHERE p.polrelid = ANY(CAST(:oids AS oid[]))
ORDER BY p.polrelid, p.polname
""")

# Everything above that could change a plan, as one md5: FKs into the set, its tables' columns,
# keys, triggers, policies and RLS flags, the role's RLS bypass, and the session TimeZone.
_DIGEST = sa.text("""
SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
  SELECT 'f' || c.oid || c.confdeltype::text || c.conrelid FROM pg_constraint c
  WHERE c.contype = 'f' AND c.confrelid = ANY(CAST(:oids AS oid[]))
  UNION ALL SELECT 'k' || p.oid FROM pg_constraint p
  WHERE p.contype = 'p' AND p.conrelid = ANY(CAST(:oids AS oid[]))
  UNION ALL SELECT 'a' || a.attrelid || a.attname::text || a.atttypid || a.atttypmod || a.attnotnull
  FROM pg_attribute a WHERE a.attrelid = ANY(CAST(:oids AS oid[])) AND a.attnum > 0
    AND NOT a.attisdropped
  UNION ALL SELECT 't' || t.oid || t.tgenabled::text FROM pg_trigger t
  WHERE t.tgrelid = ANY(CAST(:oids AS oid[])) AND NOT t.tgisinternal
  UNION ALL SELECT 'p' || p.oid FROM pg_policy p WHERE p.polrelid = ANY(CAST(:oids AS oid[]))
  UNION ALL SELECT 'c' || c.oid || c.relrowsecurity || c.relforcerowsecurity
         || c.relkind::text
  FROM pg_class c WHERE c.oid = ANY(CAST(:oids AS oid[]))
  UNION ALL SELECT 'r' || r.rolbypassrls || r.rolsuper FROM pg_roles r
  WHERE r.rolname = current_user
  UNION ALL SELECT 'z' || current_setting('TimeZone')
) s(x)
""")


def _events(tgtype: int) -> tuple[str, ...]:
    return tuple(e for bit, e in ((_DELETE, "DELETE"), (_UPDATE, "UPDATE")) if tgtype & bit)


async def read_catalog(conn: AsyncConnection, table: sa.Table) -> Catalog:
    """The catalog around `table` (schema: the table's, else the connection's current schema).

    Raises `SchemaMissing` when the table does not exist in this database."""
    root = (await conn.execute(_ROOT, {"name": table.name, "schema": table.schema})).scalar()
    if root is None:
        where = f"{table.schema}.{table.name}" if table.schema else table.name
        raise errors.SchemaMissing(f"table {where} does not exist in this database")
    oids = [int(r[0]) for r in await conn.execute(_TREE, {"root": root})]
    params = {"oids": oids}
    columns: dict[int, dict[str, Column]] = {o: {} for o in oids}
    for r in await conn.execute(_COLUMNS, params):
        columns[r.oid][r.name] = Column(r.name, r.type, r.not_null, r.generated)
    names = {}
    tables_raw = {}
    for r in await conn.execute(_TABLES, params):
        names[int(r.oid)] = r.name
        tables_raw[int(r.oid)] = r
    triggers: dict[int, list[Trigger]] = {o: [] for o in oids}
    for r in await conn.execute(_TRIGGERS, params):
        events = _events(r.type)
        if events and r.type & _ROW:
            triggers[r.oid].append(Trigger(r.name, names[r.oid], bool(r.type & _BEFORE),
                                           events, r.function))
    policies: dict[int, list[Policy]] = {o: [] for o in oids}
    commands = {"*": "ALL", "d": "DELETE", "w": "UPDATE", "r": "SELECT", "a": "INSERT"}
    for r in await conn.execute(_POLICIES, params):
        policies[r.oid].append(Policy(r.name, names[r.oid], commands.get(r.cmd, r.cmd),
                                      r.permissive, r.using))
    tables = {}
    for oid, r in tables_raw.items():
        tables[r.name] = TableFacts(
            name=r.name, schema=r.schema, relname=r.relname, oid=oid,
            partitioned=r.partitioned, key=tuple(r.key), partition_key=tuple(r.partition_key),
            columns=columns[oid], rows=int(r.rows), row_security=bool(r.row_security),
            triggers=tuple(triggers[oid]), policies=tuple(policies[oid]))
    fks = tuple(
        ForeignKey(name=r.name, table=names[r.tbl], columns=tuple(r.cols),
                   ref_table=names[r.ref], ref_columns=tuple(r.ref_cols),
                   on_delete=ON_DELETE[r.action], deferrable=r.deferrable, index=r.idx)
        for r in await conn.execute(_FKS, params))
    tz = (await conn.execute(sa.text("SELECT current_setting('TimeZone')"))).scalar_one()
    catalog = Catalog(root=names[int(root)], tables=tables, foreign_keys=fks, timezone=tz,
                      by_oid=names)
    return Catalog(**{**catalog.__dict__, "fingerprint": await digest(conn, catalog.oids)})


async def digest(conn: AsyncConnection, oids: list[int]) -> str:
    """A fingerprint of everything about these tables that a plan depends on."""
    return str((await conn.execute(_DIGEST, {"oids": oids})).scalar_one())


# Whether each "table" or "table.column" exists (search_path; fixed text, bound values).
_HAS = sa.text("""
SELECT r.item, CASE WHEN strpos(r.item, '.') = 0 THEN to_regclass(quote_ident(r.item)) IS NOT NULL
       ELSE EXISTS (SELECT 1 FROM pg_attribute a
                    WHERE a.attrelid = to_regclass(quote_ident(split_part(r.item, '.', 1)))
                      AND a.attname = split_part(r.item, '.', 2) AND a.attnum > 0
                      AND NOT a.attisdropped) END AS found
FROM unnest(CAST(:items AS text[])) AS r(item)
""")


async def existing(conn: AsyncConnection, items: Sequence[str]) -> dict[str, bool]:
    """For each "table" or "table.column" (on the search_path): whether the catalog has it."""
    return {r.item: bool(r.found) for r in await conn.execute(_HAS, {"items": list(items)})}
