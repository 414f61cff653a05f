"""Database: the facts that decide whether pruning stays cheap and what it gives back."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from console import actions, context
from console.context import ConsoleContext
from console.widgets import cutoff_picker, entity_picker, fmt_bytes, fmt_ts, limit_picker
from core import errors, health, journal, registry
from core.db import redact

SPACE_NOTE = (
    "Deleted rows leave dead tuples; (auto)VACUUM marks their space reusable by new rows of the "
    "same table. The files do not shrink and the space is not returned to the operating system "
    "until `VACUUM FULL` (takes an exclusive lock) or `pg_repack` rewrites the table.")


async def pruned_tables(db: Any) -> list[str]:
    names = []
    for p in registry.all_pruners():
        try:
            names += (await health.plan_of(db, p)).tables()
        except errors.PrunerError:
            names.append(p.table.name)  # the plan's own error shows on the Candidates page
    names += [f"{t.schema}.{t.name}" for t in journal.metadata.sorted_tables]
    return list(dict.fromkeys(names))


def overview(ctx: ConsoleContext) -> None:
    async def read(db: Any) -> tuple[str, list[health.TableStats], list[health.MissingIndex]]:
        return (await health.server_version(db),
                await health.table_stats(db, await pruned_tables(db)),
                await health.missing_fk_indexes(db))

    found = ctx.fetch(read, "reading database health")
    if found is None:
        return
    version, stats, missing = found
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

    st.subheader("Foreign keys without an index")
    if not missing:
        st.success("Every foreign key leads an index: deletes of referenced rows stay cheap.")
    for m in missing:
        cols = ", ".join(m.columns)
        st.warning(f"`{m.table}({cols})` references `{m.references}` and no index starts with "
                   "it: every delete of a referenced row scans the whole table.",
                   icon=":material/warning:")
        st.code(f"CREATE INDEX CONCURRENTLY ON {m.table} ({cols});", language="sql")


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
    overview(ctx)
    plan(ctx)


main()
