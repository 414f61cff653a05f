"""Whole-database before/after comparison for the pack's tests, in SQL.

`snapshot` copies every row of every table of `public` as JSON into `pack_test.snap`; `compare`
copies them again and leaves `pack_test.gone` (rows that were there before and are not now —
deleted rows and the old version of updated ones) and `pack_test.new` (the new version of
updated rows: a prune never inserts). Table names come from the catalog and are quoted by
PostgreSQL (format %I)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

_COPY = """
DO $$
DECLARE t record;
BEGIN
  FOR t IN SELECT c.relname FROM pg_class c
           WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
             AND c.relname <> 'alembic_version'
  LOOP
    EXECUTE format('INSERT INTO pack_test.%I SELECT %L, to_jsonb(x) FROM public.%I x',
                   '{target}', t.relname, t.relname);
  END LOOP;
END $$
"""


async def snapshot(conn: AsyncConnection) -> None:
    await conn.execute(sa.text("DROP SCHEMA IF EXISTS pack_test CASCADE"))
    await conn.execute(sa.text("CREATE SCHEMA pack_test"))
    await conn.execute(sa.text("CREATE TABLE pack_test.snap (tbl text, row jsonb)"))
    await conn.execute(sa.text(_COPY.replace("{target}", "snap")))


@dataclass
class Changes:
    deleted: dict[str, int]  # table -> rows deleted
    updated: dict[str, int]  # table -> rows changed in place


async def compare(conn: AsyncConnection) -> Changes:
    await conn.execute(sa.text("DROP TABLE IF EXISTS pack_test.cur, pack_test.gone, "
                               "pack_test.new"))
    await conn.execute(sa.text("CREATE TABLE pack_test.cur (tbl text, row jsonb)"))
    await conn.execute(sa.text(_COPY.replace("{target}", "cur")))
    await conn.execute(sa.text(
        "CREATE TABLE pack_test.gone AS SELECT tbl, row FROM pack_test.snap "
        "EXCEPT ALL SELECT tbl, row FROM pack_test.cur"))
    await conn.execute(sa.text(
        "CREATE TABLE pack_test.new AS SELECT tbl, row FROM pack_test.cur "
        "EXCEPT ALL SELECT tbl, row FROM pack_test.snap"))
    await conn.execute(sa.text("CREATE INDEX ON pack_test.gone ((row ->> 'id'))"))
    await conn.execute(sa.text("ANALYZE pack_test.gone"))
    gone = Counter({r.tbl: int(r.n) for r in await conn.execute(sa.text(
        "SELECT tbl, count(*) AS n FROM pack_test.gone GROUP BY tbl"))})
    new = Counter({r.tbl: int(r.n) for r in await conn.execute(sa.text(
        "SELECT tbl, count(*) AS n FROM pack_test.new GROUP BY tbl"))})
    deleted = {t: gone[t] - new[t] for t in gone if gone[t] - new[t]}
    return Changes(deleted=deleted, updated=dict(new))


# Rows gone from `:root` (deleted, not updated): their ids as text.
ROOT_GONE = """
SELECT g.row ->> 'id' FROM pack_test.gone g
WHERE g.tbl = :root
  AND NOT EXISTS (SELECT 1 FROM pack_test.new n
                  WHERE n.tbl = g.tbl AND n.row ->> 'id' = g.row ->> 'id')
"""

# Deleted rows of other tables that name no other deleted row in any column: nothing of the
# prune's explains why they went.
UNEXPLAINED = """
SELECT g.tbl, g.row FROM pack_test.gone g
WHERE g.tbl <> :root
  AND NOT EXISTS (SELECT 1 FROM pack_test.new n
                  WHERE n.tbl = g.tbl AND n.row ->> 'id' = g.row ->> 'id')
  AND NOT EXISTS (SELECT 1 FROM jsonb_each_text(g.row) e
                  JOIN pack_test.gone o ON o.row ->> 'id' = e.value
                  WHERE e.key <> 'id' AND NOT (o.tbl = g.tbl AND o.row = g.row))
LIMIT 5
"""

# Updated rows: (table, id, the columns whose value changed, their new values)
UPDATES = """
SELECT n.tbl, n.row ->> 'id' AS id,
       array_agg(e.key ORDER BY e.key) AS cols,
       array_agg(e.value::text ORDER BY e.key) AS vals,
       array_agg(o.row ->> e.key ORDER BY e.key) AS olds
FROM pack_test.new n
JOIN pack_test.gone o ON o.tbl = n.tbl AND o.row ->> 'id' = n.row ->> 'id'
CROSS JOIN LATERAL jsonb_each(n.row) e
WHERE e.value IS DISTINCT FROM o.row -> e.key
GROUP BY n.tbl, n.row ->> 'id'
"""

# (RBAC or FK-less table, type column or NULL, type value, id column) -> (entity table, key)
# of each release: after a prune no such row may name a missing entity row.
ORPHANS = {
    "26.8": [
        ("association_scopes_entities", "entity_type", t, "entity_id", table)
        for t, table in (("session", "sessions"), ("kernel", "kernels"),
                         ("vfolder", "vfolders"), ("routing", "routings"),
                         ("deployment:token", "endpoint_tokens"))
    ] + [
        ("association_scopes_entities", "scope_type", t, "scope_id", table)
        for t, table in (("session", "sessions"), ("kernel", "kernels"),
                         ("vfolder", "vfolders"), ("model_deployment", "endpoints"),
                         ("routing", "routings"))
    ] + [
        ("object_permissions", "entity_type", "session", "entity_id", "sessions"),
        ("object_permissions", "entity_type", "vfolder", "entity_id", "vfolders"),
        ("object_permissions", None, None, "role_id", "roles"),
        ("permissions", "scope_type", "vfolder", "scope_id", "vfolders"),
        ("permissions", "scope_type", "session", "scope_id", "sessions"),
        ("deployment_revisions", None, None, "endpoint", "endpoints"),
        ("endpoint_tokens", None, None, "endpoint", "endpoints"),
    ],
    "26.9": [
        (table, "entity_type", t, "entity_id", entity)
        for table in ("virtual_entities", "entity_labels")
        for t, entity in (("session", "sessions"), ("vfolder", "vfolders"),
                          ("deployment", "endpoints"), ("session_group", "session_groups"),
                          ("role", "roles"), ("entity_share", "entity_shares"))
    ],
    "common": [
        ("usage_bucket_entries", "bucket_type", k, "bucket_id", f"{k}_usage_buckets")
        for k in ("user", "project", "domain")
    ] + [("deployment_auto_scaling_policies", None, None, "endpoint", "endpoints")],
}


def orphan_sql(table: str, type_col: str | None, type_value: str | None, id_col: str,
               entity: str) -> sa.TextClause:
    """Rows of `table` naming a missing `entity` row (identifiers are this module's constants;
    PostgreSQL quotes them)."""
    kind = f"AND x.{type_col} = :type" if type_col else ""
    sql = (f"SELECT count(*) FROM {table} x WHERE x.{id_col} IS NOT NULL {kind} "  # noqa: S608
           f"AND NOT EXISTS (SELECT 1 FROM {entity} e WHERE e.id::text = x.{id_col}::text)")
    return sa.text(sql).bindparams(**({"type": type_value} if type_col else {}))
