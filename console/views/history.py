"""History: the journal of every prune, rehearsal, drain and restore; a drain's batches grouped
under their drain; any run's ids as CSV; restore of an archived run after a confirmation."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st

from console import actions, confirm, context, previews
from console.actions import PruneRequest
from console.context import ConsoleContext
from console.state import Keys
from console.widgets import (
    counts_table,
    drop_selection,
    fmt_ts,
    metric_row,
    selectable_table,
)
from core import export, journal, registry
from core.restore import RestoreResult

ALL = "(all)"
STATUSES = [ALL, "succeeded", "rehearsed", "failed", "retried"]
KINDS = [ALL, "prune", "selected", "drain", "rehearsal", "restore"]
HISTORY_LIMIT = 200
RESTORABLE = ("prune", "selected", "drain")


@dataclass
class Entry:
    """One line of the history table: a run, or a drain with its batches."""

    key: tuple[str, Any]
    runs: list[journal.Run] = field(default_factory=list)
    drain: journal.drains.Drain | None = None


def filters() -> tuple[dict[str, str | None], bool]:
    c1, c2, c3, c4 = st.columns(4)
    entity = c1.selectbox("Entity", [ALL, *registry.names()], key=Keys.HISTORY_ENTITY)
    status = c2.selectbox("Status", STATUSES, key=Keys.HISTORY_STATUS)
    kind = c3.selectbox("Kind", KINDS, key=Keys.HISTORY_KIND)
    operator = c4.text_input("Operator", key=Keys.HISTORY_OPERATOR, max_chars=128,
                             placeholder="exact name")
    st.session_state.setdefault(Keys.HISTORY_GROUP, True)
    group = st.toggle("One line per drain (its batches inside)", key=Keys.HISTORY_GROUP)
    return {"entity": None if entity == ALL else entity,
            "status": None if status == ALL else status,
            "kind": None if kind == ALL else kind,
            "operator": operator.strip() or None}, group


def entries(runs: list[journal.Run], drains: dict[str, journal.drains.Drain],
            group: bool) -> list[Entry]:
    """Runs newest first; with `group`, a drain's batches become one entry where its newest
    batch is."""
    out: list[Entry] = []
    by_drain: dict[str, Entry] = {}
    for r in runs:
        if group and r.drain_id:
            if r.drain_id not in by_drain:
                by_drain[r.drain_id] = Entry(("drain", r.drain_id),
                                             drain=drains.get(r.drain_id))
                out.append(by_drain[r.drain_id])
            by_drain[r.drain_id].runs.append(r)
        else:
            out.append(Entry(("run", r.id), [r]))
    return out


def entry_row(ctx: ConsoleContext, e: Entry) -> dict[str, Any]:
    if e.key[0] == "run":
        r = e.runs[0]
        return {"run": f"#{r.id}", "started": r.started_at, "entity": r.entity,
                "kind": r.kind, "status": r.status, "rows": r.count,
                "all tables": sum(r.deleted.values()), "batches": None, "operator": r.operator,
                "reason": r.reason, "cutoff": r.cutoff, "archived": r.archived,
                "error": ctx.scrub(r.error or "")}
    d, runs = e.drain, e.runs
    done = [r for r in runs if r.status == "succeeded"]
    return {"run": f"drain {e.key[1][:8]}",
            "started": d.started_at if d else min(r.started_at for r in runs),
            "entity": runs[0].entity, "kind": "drain", "status": d.status if d else "—",
            "rows": d.count if d else sum(r.count for r in done),
            "all tables": sum(sum(r.deleted.values()) for r in done),
            "batches": d.batches if d else len(done), "operator": runs[0].operator,
            "reason": runs[0].reason, "cutoff": runs[0].cutoff,
            "archived": any(r.archived for r in runs), "error": ctx.scrub(d.error or "")
            if d else ""}


def restore_button(ctx: ConsoleContext, run: journal.Run, restored: dict[int, int]) -> None:
    if not run.archived or run.status != "succeeded" or run.kind not in RESTORABLE:
        return
    if run.id in restored:
        st.caption(f"Restored by run #{restored[run.id]}.")
        return
    can = ctx.access.can_prune
    st.button(f"Restore run #{run.id}…", icon=":material/restore:", key="history.restore",
              disabled=not can, help=ctx.access.notice if not can else
              "Put the archived rows back, in one transaction, after a confirmation.",
              on_click=confirm.request, args=(PruneRequest(
                  "restore", run.entity, run.cutoff, run.limit, run_id=run.id),))


def run_details(ctx: ConsoleContext, run: journal.Run, restored: dict[int, int]) -> None:
    st.subheader(f"Run #{run.id}: {run.kind} of {run.entity}, {run.status}")
    cols = metric_row(4)
    cols[0].metric(f"Rows of {run.entity}", f"{run.count:,}")
    cols[1].metric("All tables", f"{sum(run.deleted.values()):,}")
    cols[2].metric("Cutoff", fmt_ts(run.cutoff))
    cols[3].metric("Finished", fmt_ts(run.finished_at))
    st.markdown(f"Operator **{run.operator}** · reason: {run.reason or '—'}"
                + (f" · drain `{run.drain_id}`" if run.drain_id else "")
                + (f" · puts back run #{run.restored_from}" if run.restored_from else "")
                + (f" · {run.busy:,} busy (held by another transaction, left for the next "
                   "run)" if run.busy else ""))
    if run.error:
        st.error(ctx.scrub(run.error))
    if run.deleted:
        counts_table(run.deleted, key="history.tables")
    restore_button(ctx, run, restored)
    if run.status != "succeeded" or run.kind == "restore":
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


def drain_details(ctx: ConsoleContext, e: Entry, restored: dict[int, int]) -> None:
    drain_id = str(e.key[1])
    batches = ctx.fetch(lambda db: journal.history(db, limit=10_000, drain_id=drain_id),
                        "reading the drain's batches")
    if batches is None:
        return
    d = e.drain
    st.subheader(f"Drain {drain_id[:8]} of {batches[0].entity if batches else '?'}"
                 + (f": {d.status}" if d else ""))
    done = [r for r in batches if r.status == "succeeded"]
    cols = metric_row(4)
    cols[0].metric("Rows", f"{sum(r.count for r in done):,}")
    cols[1].metric("Batches", f"{len(done):,}")
    cols[2].metric("All tables", f"{sum(sum(r.deleted.values()) for r in done):,}")
    cols[3].metric("Busy · parked", f"{d.busy:,} · {d.parked:,}" if d else "—")
    if d:
        st.markdown(f"Drain `{d.id}` · operator **{d.operator}** · reason: {d.reason or '—'} · "
                    f"cutoff {fmt_ts(d.cutoff)} · started {fmt_ts(d.started_at)} · ended "
                    f"{fmt_ts(d.finished_at)}" + (" · stop was requested"
                                                  if d.stop_requested else ""))
        if d.error:
            st.error(ctx.scrub(d.error))
    st.caption("Its batches, newest first. Select one to see its ids (and restore it when it "
               "was archived).")
    by_id = {r.id: r for r in batches}
    picked = selectable_table(pd.DataFrame([{
        "run": r.id, "finished": r.finished_at, "status": r.status, "rows": r.count,
        "busy": r.busy, "archived": r.archived, "error": ctx.scrub(r.error or "")}
        for r in batches]), list(by_id), Keys.HISTORY_BATCHES, selection_mode="single-row",
        column_config={"finished": st.column_config.DatetimeColumn(
            format="YYYY-MM-DD HH:mm:ss")})
    if picked:
        run_details(ctx, by_id[picked[0]], restored)


def restore_confirmed(ctx: ConsoleContext) -> None:
    confirmed = confirm.take_confirmed(("restore",))
    if confirmed is None:
        return
    plan, confirmation = confirmed
    with st.status(f"Restoring run #{plan.request.run_id}…") as status:
        done = ctx.attempt(lambda: actions.execute_restore(ctx, plan, confirmation))
        if done is None:
            status.update(label="Restore failed: nothing changed", state="error")
            return
        st.session_state[Keys.RESTORED] = done
        previews.clear()  # rows came back: no page may show counts from before
        drop_selection(Keys.HISTORY_TABLE)
        status.update(label=f"Restored run #{done.restored_from}", state="complete")


def show_restored(result: RestoreResult) -> None:
    with st.container(border=True):
        st.success(f"Run #{result.restored_from} is back: {sum(result.inserted.values()):,} "
                   f"rows put back (restore run #{result.run_id}).",
                   icon=":material/check_circle:")
        counts_table(result.inserted, key="history.restored")
        st.button("Dismiss", on_click=lambda: st.session_state.pop(Keys.RESTORED, None),
                  type="tertiary", key="history.restored_dismiss")


def main() -> None:
    ctx = context.current()
    st.title("History")
    st.caption("Every prune, rehearsal, drain batch and restore, newest first, from the "
               "journal (`pruner.prune_runs`).")
    restore_confirmed(ctx)
    if done := st.session_state.get(Keys.RESTORED):
        show_restored(done)
    wanted, group = filters()

    async def read(db: Any) -> tuple[list[journal.Run], list[journal.drains.Drain],
                                     dict[int, int]]:
        return (await journal.history(db, limit=HISTORY_LIMIT, **wanted),
                await journal.drains.listing(db, limit=HISTORY_LIMIT),
                await actions.restored_runs(db))

    found = ctx.fetch(read, "reading the journal")
    if found is None:
        return
    runs, drains, restored = found
    if not runs:
        st.info("No runs match." if any(wanted.values()) else "The journal is empty: nothing "
                "has been pruned or rehearsed yet.")
        return
    shown = entries(runs, {d.id: d for d in drains}, group)
    by_key = {e.key: e for e in shown}
    st.caption(f"{len(runs):,} run{'' if len(runs) == 1 else 's'} (at most {HISTORY_LIMIT} "
               "shown). Select a line to see its ids" + (" or a drain's batches." if group
                                                         else "."))
    selected = selectable_table(
        pd.DataFrame([entry_row(ctx, e) for e in shown]), list(by_key), Keys.HISTORY_TABLE,
        selection_mode="single-row",
        column_config={"started": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
                       "cutoff": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                       "batches": st.column_config.NumberColumn(format="%d")})
    if selected:
        entry = by_key[selected[0]]
        if entry.key[0] == "drain":
            drain_details(ctx, entry, restored)
        else:
            run_details(ctx, entry.runs[0], restored)
    confirm.show_if_pending(ctx, ("restore",))


main()
