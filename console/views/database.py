"""Database: the facts that decide whether pruning stays cheap and what it gives back."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from console import actions, context, previews
from console.context import ConsoleContext
from console.widgets import cutoff_picker, entity_picker, fmt_bytes, fmt_ts, limit_picker
from core import errors, health, journal, registry
from core.backendai.retention import Policy
from core.db import redact

SPACE_NOTE = (
    "Deleted rows leave dead tuples; (auto)VACUUM marks their space reusable by new rows of the "
    "same table. The files do not shrink and the space is not returned to the operating system "
    "until `VACUUM FULL` (takes an exclusive lock) or `pg_repack` rewrites the table.")


async def pruned_tables(db: Any) -> list[str]:
    names = []
    for name in registry.names():
        try:
            pruner = await registry.resolve(db, name)
        except errors.SchemaMissing:
            continue  # not on this database (another model's entity)
        try:
            names += (await health.plan_of(db, pruner)).tables()
        except errors.PrunerError:
            names.append(pruner.table.name)  # the plan's own error shows on Candidates
    names += [f"{t.schema}.{t.name}" for t in journal.metadata.sorted_tables]
    return list(dict.fromkeys(names))


def overview(ctx: ConsoleContext) -> None:
    async def read(db: Any) -> tuple[str, list[str], list[health.TableStats],
                                      list[health.MissingIndex]]:
        tables = await pruned_tables(db)
        return (await health.server_version(db), tables, await health.table_stats(db, tables),
                await health.missing_fk_indexes(db))

    found = ctx.fetch(read, "reading database health")
    if found is None:
        return
    version, tables, stats, missing = found
    assert ctx.database_url
    st.markdown(f"PostgreSQL **{version}** at `{redact(ctx.database_url)}`")

    st.subheader("Tables the pruners touch")
    frame = pd.DataFrame([{
        "table": s.name, "size": fmt_bytes(s.total_bytes), "bytes": s.total_bytes,
        "live rows": s.live_tuples, "dead rows": s.dead_tuples,
        "dead %": 100 * s.dead_tuples / max(s.live_tuples + s.dead_tuples, 1),
        "last vacuum": fmt_ts(s.last_vacuum), "last autovacuum": fmt_ts(s.last_autovacuum),
    } for s in stats])
    st.dataframe(frame, hide_index=True, key="database.stats", column_config={
        "bytes": None, "dead %": st.column_config.NumberColumn(format="%.1f %%"),
        "live rows": st.column_config.NumberColumn(format="localized"),
        "dead rows": st.column_config.NumberColumn(format="localized")})
    st.info(SPACE_NOTE, icon=":material/info:")

    unindexed(missing, tables)


def _bare(name: str) -> str:
    return name.rsplit(".", 1)[-1].strip('"')


def unindexed(missing: list[health.MissingIndex], tables: list[str]) -> None:
    """FKs no index leads: first those into a table the pruners delete from (each delete
    there scans them), each with its fix; the rest of the database's, folded away."""
    st.subheader("Foreign keys without an index")
    pruned = {_bare(t) for t in tables}
    on_path = [m for m in missing if _bare(m.references) in pruned]
    others = [m for m in missing if _bare(m.references) not in pruned]
    if not on_path:
        st.success("Every foreign key into a table the pruners delete from leads an index: "
                   "their deletes stay cheap.")
    for m in on_path:
        cols = ", ".join(m.columns)
        st.warning(f"`{m.table}({cols})` references `{m.references}` and no index starts with "
                   "it: every delete of a referenced row scans the whole table.",
                   icon=":material/warning:")
        st.code(f"CREATE INDEX CONCURRENTLY ON {m.table} ({cols});", language="sql")
    if others:
        with st.expander(f"{len(others)} other foreign keys without an index (into tables no "
                         "pruner deletes from)"):
            st.dataframe(pd.DataFrame([{"table": m.table, "columns": ", ".join(m.columns),
                                        "references": m.references} for m in others]),
                         hide_index=True, key="database.other_unindexed")


def policies_frame(found: list[Policy]) -> pd.DataFrame:
    return pd.DataFrame([{
        "category": p.category, "period": p.period_text,
        "enabled": p.enabled, "last swept": fmt_ts(p.last_swept_at),
        "pruners covering it": ", ".join(p.pruners) or "—"} for p in found],
        columns=["category", "period", "enabled", "last swept", "pruners covering it"])


def platform_sweep(ctx: ConsoleContext) -> None:
    """The platform's own retention sweep (Backend.AI 26.8+: `retention_policies`), each
    category beside the pruners that cover the same rows. Nothing without the table."""
    found = ctx.attempt(lambda: previews.cached_policies(ctx.database_url))
    if not found:
        return
    st.subheader("The platform's own sweep")
    st.dataframe(policies_frame(found), hide_index=True, key="database.policies",
                 column_config={"enabled": st.column_config.CheckboxColumn()})
    st.caption("Backend.AI deletes old rows itself for each enabled category "
               "(`retention_policies`). A pruner run with the category's period as its cutoff "
               "(`pruner prune … --policy CATEGORY`) takes the same horizon.")


def plan(ctx: ConsoleContext) -> None:
    st.subheader("Plan of the candidate query")
    c1, c2, c3 = st.columns(3)
    with c1:
        entity = entity_picker()
    cutoff = cutoff_picker(c2, c3)
    limit = limit_picker(slot=st.columns(3)[0])
    before = cutoff.before
    if before is None or limit is None:
        st.info("Correct the inputs above to see the plan.", icon=":material/edit:")
        return
    req = ctx.attempt(lambda: actions.sweep_of(ctx, entity, before, limit))
    found = None if req is None else ctx.fetch(lambda db: health.candidate_plan(db, req),
                                               f"explaining the {entity} candidate query")
    if found is None:
        return
    if found.ok:
        st.success("The candidate query reads through indexes only.")
    else:
        st.warning("Sequential scan of: " + ", ".join(found.full_scans) + ". Fine on small "
                   "tables; on large ones add the index the scan is missing.")
    st.code(found.plan, language="text")
    st.caption("EXPLAIN without ANALYZE: nothing was run.")


def main() -> None:
    ctx = context.current()
    st.title("Database")
    platform_sweep(ctx)
    overview(ctx)
    plan(ctx)


main()
