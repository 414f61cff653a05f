"""History: the journal of every prune, rehearsal and drain batch; any run's ids as CSV."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from console import context
from console.context import ConsoleContext
from console.state import Keys
from console.widgets import counts_table, fmt_ts, selectable_table
from core import export, journal, registry

ALL = "(all)"
STATUSES = [ALL, "succeeded", "rehearsed", "failed"]
KINDS = [ALL, "prune", "selected", "drain", "rehearsal"]
HISTORY_LIMIT = 200


def filters() -> dict[str, str | None]:
    c1, c2, c3, c4 = st.columns(4)
    entity = c1.selectbox("Entity", [ALL, *registry.names()], key=Keys.HISTORY_ENTITY)
    status = c2.selectbox("Status", STATUSES, key=Keys.HISTORY_STATUS)
    kind = c3.selectbox("Kind", KINDS, key=Keys.HISTORY_KIND)
    operator = c4.text_input("Operator", key=Keys.HISTORY_OPERATOR, max_chars=128,
                             placeholder="exact name")
    return {"entity": None if entity == ALL else entity,
            "status": None if status == ALL else status,
            "kind": None if kind == ALL else kind,
            "operator": operator.strip() or None}


def runs_frame(ctx: ConsoleContext, runs: list[journal.Run]) -> pd.DataFrame:
    return pd.DataFrame([{
        "run": r.id, "started": r.started_at, "entity": r.entity, "kind": r.kind,
        "status": r.status, "rows": r.count, "all tables": sum(r.deleted.values()),
        "operator": r.operator, "reason": r.reason, "cutoff": r.cutoff, "limit": r.limit,
        "archived": r.archived, "error": ctx.scrub(r.error or ""),
    } for r in runs])


def run_details(ctx: ConsoleContext, run: journal.Run) -> None:
    st.subheader(f"Run #{run.id}: {run.kind} of {run.entity}, {run.status}")
    cols = st.columns(4)
    cols[0].metric(f"Rows of {run.entity}", f"{run.count:,}")
    cols[1].metric("All tables", f"{sum(run.deleted.values()):,}")
    cols[2].metric("Cutoff", fmt_ts(run.cutoff))
    cols[3].metric("Finished", fmt_ts(run.finished_at))
    st.markdown(f"Operator **{run.operator}** · reason: {run.reason or '—'}"
                + (f" · drain `{run.drain_id}`" if run.drain_id else ""))
    if run.error:
        st.error(ctx.scrub(run.error))
    if run.deleted:
        counts_table(run.deleted, key="history.tables")
    if run.status != "succeeded":
        st.caption("Nothing was deleted by this run, so it has no ids.")
        return

    ids = ctx.fetch(lambda db: journal.run_ids(db, run.id), f"reading run #{run.id}")
    if ids is None:
        return
    csv = export.run_ids_csv(run, ids)  # read once: shown and served as CSV
    st.markdown(f"**{len(ids):,} pruned ids**")
    st.dataframe(pd.DataFrame({"id": ids}), hide_index=True, height=220, key="history.ids")
    st.download_button("Download ids CSV", data=csv, mime="text/csv", on_click="ignore",
                       file_name=f"pruned-{run.entity}-run{run.id}.csv", type="primary",
                       icon=":material/download:", key="history.download")
    if run.archived:
        archived_rows(ctx, run)


def archived_rows(ctx: ConsoleContext, run: journal.Run) -> None:
    rows = ctx.fetch(lambda db: journal.archived_rows(db, run.id),
                     f"reading the archive of run #{run.id}")
    if rows is None:
        return
    csv = export.archive_csv(run, rows)  # read once: shown and served as CSV
    st.markdown(f"**{len(rows):,} archived rows** (the full rows as they were deleted)")
    st.dataframe(pd.DataFrame({"table": [r.table for r in rows], "kind": [r.kind for r in rows],
                               "row": [json.dumps(r.row, sort_keys=True, default=str)
                                       for r in rows]}),
                 hide_index=True, height=220, key="history.archive")
    st.download_button("Download archive CSV", data=csv, mime="text/csv", on_click="ignore",
                       file_name=f"archive-{run.entity}-run{run.id}.csv",
                       icon=":material/download:", key="history.archive_download")


def main() -> None:
    ctx = context.current()
    st.title("History")
    st.caption("Every prune, rehearsal and drain batch, newest first, from the journal "
               "(`pruner.prune_runs`).")
    wanted = filters()
    runs = ctx.fetch(lambda db: journal.history(db, limit=HISTORY_LIMIT, **wanted),
                     "reading the journal")
    if runs is None:
        return
    if not runs:
        st.info("No runs match." if any(wanted.values()) else "The journal is empty: nothing "
                "has been pruned or rehearsed yet.")
        return
    by_id = {r.id: r for r in runs}
    shown = f"{len(runs):,} run" + ("" if len(runs) == 1 else "s")
    st.caption(f"{shown} (at most {HISTORY_LIMIT} shown). Select one to see its ids.")
    selected = selectable_table(
        runs_frame(ctx, runs), list(by_id), Keys.HISTORY_TABLE, selection_mode="single-row",
        column_config={"started": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
                       "cutoff": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
    if selected:
        run_details(ctx, by_id[selected[0]])


main()
