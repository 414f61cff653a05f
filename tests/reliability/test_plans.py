"""Plans on random schemas: hypothesis builds FK graphs (CASCADE / SET NULL / RESTRICT / NO
ACTION, composite and self-referencing keys, now and then a vetoing trigger or a row-level
security policy that hides rows from DELETE), random data and a random declaration, then prunes
with the archive on — as a login role that is not a superuser, since PostgreSQL applies no policy
to superusers — and checks, against the data it built:

- nothing outside the plan is deleted or changed: every deleted row is a pruned row or hangs
  from one through a deleted edge; every changed row is a declared SET NULL of a pruned row;
- preview counts = rehearsal counts = result counts = per-table row deltas;
- a prune removes every candidate it locked or nothing (a veto or a policy rolls everything
  back, and the error names it);
- restoring the archived run gives back the table contents exactly.

Size: PRUNER_SOAK=full runs more schemas and data sets (see `size`).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from core import create_engine, errors, execute_pruner, journal, operations, sweep
from core.preview import preview
from core.repository.pruner import Child, Pruner, SetNull
from core.restore import restore
from tests.reliability.helpers import size

ACTIONS = ("CASCADE", "SET NULL", "RESTRICT", "NO ACTION")
SCHEMAS = size(40, 250)
DATA_SETS = size(3, 5)  # per schema
STATS: dict[str, int] = defaultdict(int)


@dataclass(frozen=True)
class Edge:
    child: int  # table index (0 is the pruned table)
    parent: int
    action: str
    composite: bool
    declared: bool  # a Child (for NO ACTION / RESTRICT) or a SetNull (for SET NULL)


@dataclass
class World:
    edges: list[Edge]
    self_fk: str | None  # ON DELETE of t0.parent_id, if any
    veto: int | None  # a table whose BEFORE DELETE trigger keeps rows with veto = true
    policy: int | None = None  # a table whose RLS DELETE policy hides rows with veto = true
    rows: dict[int, int] = field(default_factory=dict)  # rows per table


@st.composite
def worlds(draw: st.DrawFn) -> World:
    n = draw(st.integers(1, 4), label="referencing tables")
    edges = []
    for child in range(1, n + 1):
        for parent in draw(st.sets(st.integers(0, child - 1), min_size=1, max_size=2),
                           label=f"parents of t{child}"):
            action = draw(st.sampled_from(ACTIONS), label="on delete")
            edges.append(Edge(child, parent, action, draw(st.booleans(), label="composite"),
                              draw(st.booleans(), label="declared")))
    self_fk = draw(st.one_of(st.none(), st.sampled_from(("CASCADE", "NO ACTION", "SET NULL"))),
                   label="self fk")
    veto = draw(st.one_of(st.none(), st.integers(0, n)), label="veto") if draw(
        st.integers(0, 5), label="veto?") == 0 else None
    policy = draw(st.integers(0, n), label="policy") if draw(
        st.integers(0, 5), label="policy?") == 0 else None
    return World(edges, self_fk, veto, policy)


def ddl(schema: str, w: World) -> list[str]:
    n = 1 + max([e.child for e in w.edges], default=0)
    out = []
    for t in range(n):
        cols = ["id int PRIMARY KEY", "g int NOT NULL", "veto bool NOT NULL DEFAULT false"]
        if t == 0:
            cols += ["state text NOT NULL", "ts timestamptz"]
            if w.self_fk:
                cols.append(f"parent_id int REFERENCES {schema}.t0 ON DELETE {w.self_fk}")
        for i, e in enumerate(x for x in w.edges if x.child == t):
            if e.composite:
                cols += [f"rg{i} int", f"r{i} int",
                         f"FOREIGN KEY (rg{i}, r{i}) REFERENCES {schema}.t{e.parent} (g, id) "
                         f"ON DELETE {e.action}"]
            else:
                cols.append(f"r{i} int REFERENCES {schema}.t{e.parent} ON DELETE {e.action}")
        cols.append("UNIQUE (g, id)")
        out.append(f"CREATE TABLE {schema}.t{t} ({', '.join(cols)})")
    if w.veto is not None:
        out += [f"CREATE FUNCTION {schema}.keep() RETURNS trigger LANGUAGE plpgsql AS "
                "$$BEGIN IF OLD.veto THEN RETURN NULL; END IF; RETURN OLD; END$$",
                f"CREATE TRIGGER keep BEFORE DELETE ON {schema}.t{w.veto} FOR EACH ROW "
                f"EXECUTE FUNCTION {schema}.keep()"]
    if w.policy is not None:
        t = f"{schema}.t{w.policy}"
        out += [f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY",
                f"CREATE POLICY see ON {t} FOR SELECT USING (true)",
                f"CREATE POLICY add ON {t} FOR INSERT WITH CHECK (true)",
                f"CREATE POLICY change ON {t} FOR UPDATE USING (true)",
                f"CREATE POLICY keep_vetoed ON {t} FOR DELETE USING (NOT veto)"]
    out += [f"GRANT USAGE ON SCHEMA {schema} TO {APP}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {APP}"]
    return out


@st.composite
def data(draw: st.DrawFn, w: World) -> list[str]:
    """INSERT statements (constants only) for a world."""
    n = 1 + max([e.child for e in w.edges], default=0)
    now = datetime.now(UTC)
    stmts = []
    ids: dict[int, list[int]] = {}
    for t in range(n):
        k = draw(st.integers(0 if t else 2, 10), label=f"rows of t{t}")
        ids[t] = list(range(1, k + 1))
        for i in ids[t]:
            vals = {"id": i, "g": i % 3, "veto": draw(st.integers(0, 9)) == 0}
            if t == 0:
                vals["state"] = draw(st.sampled_from(["done", "done", "done", "live"]))
                age = draw(st.one_of(st.none(), st.integers(0, 40), st.integers(11, 40)))
                vals["ts"] = None if age is None else (now - timedelta(days=age)).isoformat()
                if w.self_fk and i > 1 and draw(st.booleans()):
                    vals["parent_id"] = draw(st.integers(1, i - 1))
            for j, e in enumerate(x for x in w.edges if x.child == t):
                parents = ids.get(e.parent) or []
                if parents and draw(st.booleans()):
                    p = draw(st.sampled_from(parents))
                    vals[f"r{j}"] = p
                    if e.composite:
                        vals[f"rg{j}"] = p % 3
            stmts.append((t, vals))
    return [_insert(t, v) for t, v in stmts]


def _insert(t: int, vals: dict[str, Any]) -> str:
    def lit(v: Any) -> str:
        if v is None:
            return "NULL"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        return "'" + str(v).replace("'", "''") + "'"
    # the test's own generated constants, never operator input
    return (f"INSERT INTO {{s}}.t{t} ({', '.join(vals)}) "  # noqa: S608
            f"VALUES ({', '.join(lit(v) for v in vals.values())})")


def declare(schema: str, w: World) -> Pruner:
    md = sa.MetaData(schema=schema)
    n = 1 + max([e.child for e in w.edges], default=0)
    tables = {}
    for t in range(n):
        cols = [sa.Column("id", sa.Integer, primary_key=True), sa.Column("g", sa.Integer)]
        if t == 0:
            cols += [sa.Column("state", sa.Text), sa.Column("ts", sa.DateTime(timezone=True))]
            if w.self_fk:
                cols.append(sa.Column("parent_id", sa.Integer))
        for i, e in enumerate(x for x in w.edges if x.child == t):
            cols += [sa.Column(f"r{i}", sa.Integer)] + (
                [sa.Column(f"rg{i}", sa.Integer)] if e.composite else [])
        tables[t] = sa.Table(f"t{t}", md, *cols)
    children, set_null = [], []
    for t in range(1, n):
        for i, e in enumerate(x for x in w.edges if x.child == t):
            if not e.declared or e.parent != 0:
                continue
            on = (f"rg{i}", f"r{i}") if e.composite else f"r{i}"
            if e.action in ("RESTRICT", "NO ACTION"):
                children.append(Child(tables[t], on=on))
            elif e.action == "SET NULL":
                set_null.append(SetNull(tables[t], on=on))
    t0 = tables[0]
    return Pruner(name="t0", table=t0, terminal=t0.c.state == "done", timestamp="ts",
                  children=tuple(children), set_null=tuple(set_null))


async def counts(engine: AsyncEngine, schema: str) -> dict[str, int]:
    async with engine.connect() as conn:
        names = (await conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema})).scalars()
        out = {}
        for n in list(names):
            out[n] = (await conn.execute(sa.select(sa.func.count()).select_from(
                sa.table(n, schema=schema)))).scalar_one()
        return out


async def snapshot(engine: AsyncEngine, schema: str) -> dict[str, list[tuple[str, ...]]]:
    async with engine.connect() as conn:
        names = list((await conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema})).scalars())
        out = {}
        for n in names:
            rows = await conn.execute(sa.select(sa.text("*")).select_from(
                sa.table(n, schema=schema)))
            out[n] = sorted(tuple(map(str, r)) for r in rows)
        return out


def bare(d: dict[str, int]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for k, v in d.items():
        out[k.split(".")[-1]] += v
    return dict(out)


APP = "plans_app"  # the login role the prunes run as: no superuser, so policies apply


@pytest.fixture(scope="module")
async def app_engine(engine: AsyncEngine, database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine of APP, a role with DML on the journal and (granted per schema) the tables."""
    password = "plans-" + uuid.uuid4().hex[:16]
    async with engine.begin() as conn:  # the role and its grants: our constants only
        if (await conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"),
                               {"r": APP})).first() is None:
            await conn.execute(sa.text(f"CREATE ROLE {APP} LOGIN NOSUPERUSER"))
        await conn.execute(sa.text(f"ALTER ROLE {APP} PASSWORD '{password}'"))
        for grant in (f"GRANT USAGE ON SCHEMA {journal.SCHEMA} TO {APP}",
                      f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "
                      f"{journal.SCHEMA} TO {APP}",
                      f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {journal.SCHEMA} TO {APP}"):
            await conn.execute(sa.text(grant))
    url = make_url(database_url).set(username=APP, password=password)
    app = create_engine(url.render_as_string(hide_password=False))
    yield app
    await app.dispose()


@pytest.mark.timeout(size(600, 4 * 3600))  # the full size runs for about an hour
@settings(max_examples=SCHEMAS, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(w=worlds(), draw=st.data())
async def test_random_schemas_prune_exactly_what_the_plan_says(
        engine: AsyncEngine, app_engine: AsyncEngine, w: World, draw: st.DataObject) -> None:
    schema = f"p_{uuid.uuid4().hex[:10]}"
    async with engine.begin() as conn:
        await conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        for stmt in ddl(schema, w):
            await conn.execute(sa.text(stmt))
    try:
        pruner = declare(schema, w)
        for _ in range(DATA_SETS):
            async with engine.begin() as conn:
                n = 1 + max([e.child for e in w.edges], default=0)
                await conn.execute(sa.text("TRUNCATE " + ", ".join(
                    f"{schema}.t{t}" for t in range(n)) + " CASCADE"))
                for stmt in draw.draw(data(w), label="data"):
                    await conn.execute(sa.text(stmt.format(s=schema)))
            await check_one_data_set(engine, app_engine, schema, w, pruner, draw)
            STATS["data sets"] += 1
    finally:
        async with engine.begin() as conn:
            await conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        STATS["schemas"] += 1
        STATS["policies"] += w.policy is not None
        STATS["triggers"] += w.veto is not None


async def check_one_data_set(engine: AsyncEngine, app: AsyncEngine, schema: str, w: World,
                             pruner: Pruner, draw: st.DataObject) -> None:
    """One data set: the owner (`engine`) reads and compares, the app role (`app`) prunes."""
    before = datetime.now(UTC) - timedelta(days=10)
    limit = draw.draw(st.integers(1, 8), label="limit")
    req = sweep(pruner, before=before, limit=limit)
    snap = await snapshot(engine, schema)
    start = await counts(engine, schema)
    try:
        pv = await preview(app, req)
        rehearsal = await execute_pruner(app, pruner, before=before, limit=limit,
                                         dry_run=True)
    except errors.PruneFailed as exc:
        STATS["vetoed"] += 1
        # only a vetoing trigger or a policy may make it fail, and the message names it
        assert w.veto is not None or w.policy is not None, exc
        assert "keep" in str(exc), exc
        assert await snapshot(engine, schema) == snap  # nothing changed
        return
    assert await snapshot(engine, schema) == snap  # a rehearsal changes nothing
    try:
        result = await operations.prune(app, req, archive=True, operator="plans")
    except errors.PruneFailed:
        STATS["vetoed"] += 1
        # only a veto (trigger or policy) may refuse after a rehearsal…
        assert w.veto is not None or w.policy is not None
        assert await snapshot(engine, schema) == snap  # …and then nothing changed
        return
    end = await counts(engine, schema)
    deltas = {t: start[t] - end[t] for t in start if start[t] != end[t]}
    # preview = rehearsal = result = what really went, per table
    for got in (bare(pv.cascade), bare(rehearsal.deleted), bare(result.deleted)):
        assert {k: v for k, v in got.items() if v} == deltas, (got, deltas)
    assert bare(rehearsal.updated) == bare(result.updated)
    # nothing outside the plan: every remaining row is untouched except declared SET NULLs
    after = await snapshot(engine, schema)
    changed = {t: set(after[t]) - set(snap[t]) for t in after}
    nulled = sum(bare(result.updated).values())
    assert sum(len(c) for c in changed.values()) == nulled, changed
    STATS["pruned"] += result.count > 0
    STATS["rows"] += sum(deltas.values())
    STATS["nulled"] += nulled > 0
    STATS["blocked"] += pv.blocked > 0
    # restore gives back exactly what there was
    if result.count:
        await restore(app, result.run_id, operator="plans")
        assert await snapshot(engine, schema) == snap
        STATS["restored"] += 1


def test_zz_plan_property_summary() -> None:
    print(f"\nrandom schemas: {STATS['schemas']} x data sets: {STATS['data sets']} "
          f"(pruned {STATS['pruned']}, "
          f"{STATS['rows']} rows in all; restored {STATS['restored']}, with SET NULL "
          f"{STATS['nulled']}, with blocked rows {STATS['blocked']}; schemas with a vetoing "
          f"trigger {STATS['triggers']}, with a DELETE policy {STATS['policies']}; vetoed and "
          f"rolled back "
          f"{STATS['vetoed']})")
