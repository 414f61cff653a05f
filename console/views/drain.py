"""Drain: a whole backlog in capped batches, with live progress and a Stop button.

The drain runs on the runtime's loop as a future (it outlives any one script run); this page
polls it with a fragment while it runs and Stop sets its cancel event (checked between batches).
"""

from __future__ import annotations

import streamlit as st

from console import actions, confirm, context, previews
from console.actions import DrainJob, PruneRequest
from console.context import ConsoleContext
from console.state import Keys
from console.widgets import (
    counts_table,
    cutoff_picker,
    drop_selection,
    entity_picker,
    fmt_ts,
    max_limit,
)
from core.settings import DEFAULT_LIMIT

POLL_SECONDS = 1.0
STOPPED = {
    "done": "finished: no candidates left",
    "stopped": "stopped on request",
    "max_batches": "stopped at the batch limit",
    "max_seconds": "stopped at the time limit",
    "failed": "stopped by an error",
}


def start_confirmed(ctx: ConsoleContext) -> None:
    confirmed = confirm.take_confirmed(("drain",))
    if confirmed is None:
        return
    plan, confirmation = confirmed
    job = ctx.attempt(lambda: actions.start_drain(ctx, plan, confirmation))
    if job is not None:
        st.session_state[Keys.DRAIN_JOB] = job


def controls(ctx: ConsoleContext) -> None:
    with st.container(border=True):
        c1, c2, c3 = st.columns(3, vertical_alignment="bottom")
        with c1:
            entity = entity_picker()
        cutoff = cutoff_picker(c2, c3)
        c3, c4, c5 = st.columns(3)
        st.session_state.setdefault(Keys.DRAIN_BATCH, min(DEFAULT_LIMIT, max_limit()))
        st.session_state.setdefault(Keys.DRAIN_MAX_BATCHES, 0)
        st.session_state.setdefault(Keys.DRAIN_PAUSE, 0.0)
        batch = int(c3.number_input("Batch size", min_value=1, max_value=max_limit(), step=100,
                                    key=Keys.DRAIN_BATCH,
                                    help="Rows per transaction; each batch is journaled."))
        max_batches = int(c4.number_input("Max batches (0 = until done)", min_value=0,
                                          max_value=1_000_000, step=1,
                                          key=Keys.DRAIN_MAX_BATCHES))
        pause = float(c5.number_input("Pause between batches (s)", min_value=0.0,
                                      max_value=60.0, step=0.5, key=Keys.DRAIN_PAUSE,
                                      help="Gives replicas and autovacuum room to keep up."))
        st.caption(f"Cutoff: {cutoff.description}. The cutoff is frozen when the drain starts.")
    pv = ctx.attempt(lambda: previews.cached_preview(
        ctx.database_url, entity, cutoff.before, batch, 0, ctx.settings.core.prune))
    if pv is None:
        return
    batches = -(-pv.candidates // batch) if pv.candidates else 0
    if max_batches:
        batches = min(batches, max_batches)
    st.metric("Candidates now", f"{pv.candidates:,}",
              help=f"About {batches:,} batches of {batch:,}.")
    can = ctx.access.can_prune
    st.button("Start drain…", type="primary", icon=":material/play_arrow:",
              disabled=not can or not pv.candidates, help=None if can else ctx.access.notice,
              on_click=confirm.request,
              args=(PruneRequest("drain", entity, cutoff.before, batch,
                                 max_batches=max_batches or None, pause_seconds=pause),))


@st.fragment(run_every=POLL_SECONDS)
def live_progress(job: DrainJob) -> None:
    if job.done:
        st.rerun()  # redraw the whole page once with the final result
    p = job.progress
    done = p.done if p else 0
    batches = p.batches if p else 0
    total = max(p.estimated_total if p else job.plan.rows, done, 1)
    st.progress(min(done / total, 1.0),
                text=f"{done:,} of about {total:,} {job.plan.request.entity} deleted · "
                     f"{batches:,} batches")
    if job.cancel.is_set():
        st.caption("Stopping after the current batch…")
    st.button("Stop", on_click=job.stop, disabled=job.cancel.is_set(),
              icon=":material/stop_circle:", key="drain.stop")


def finished(ctx: ConsoleContext, job: DrainJob) -> None:
    if not job.caches_cleared:
        previews.clear()  # the backlog changed: no page may show counts from before
        drop_selection(Keys.CANDIDATES_TABLE)
        job.caches_cleared = True
    result = ctx.attempt(job.result)
    if result is None:
        st.button("New drain", on_click=lambda: st.session_state.pop(Keys.DRAIN_JOB, None))
        return
    message = (f"Drain of {result.entity} {STOPPED.get(result.stopped, result.stopped)}: "
               f"{result.count:,} rows in {result.batches:,} batches.")
    if result.stopped == "failed":
        st.error(f"{message} {ctx.scrub(result.error or '')} Committed batches stay committed.")
    elif result.stopped == "done":
        st.success(message, icon=":material/check_circle:")
    else:
        st.warning(message, icon=":material/pause_circle:")
    cols = st.columns(3)
    cols[0].metric(f"Rows of {result.entity}", f"{result.count:,}")
    cols[1].metric("Batches", f"{result.batches:,}")
    cols[2].metric("All tables", f"{sum(result.deleted.values()):,}")
    if result.deleted:
        counts_table(result.deleted, key="drain.tables")
    st.caption(f"Cutoff {fmt_ts(result.cutoff)} · runs " +
               (", ".join(f"#{r}" for r in result.run_ids[:20]) or "none") +
               (" …" if len(result.run_ids) > 20 else ""))
    if result.count and (csv := ctx.attempt(lambda: job.csv(ctx))) is not None:
        st.download_button("Download CSV", data=csv, mime="text/csv", on_click="ignore",
                           file_name=f"drained-{result.entity}-{result.drain_id[:8]}.csv",
                           icon=":material/download:", type="primary", key="drain.download")
    st.button("New drain", on_click=lambda: st.session_state.pop(Keys.DRAIN_JOB, None),
              key="drain.new")


def main() -> None:
    ctx = context.current()
    st.title("Drain a backlog")
    st.caption("Prunes everything older than the cutoff in capped batches, one transaction "
               "each, until none is left, the batch limit, or Stop.")
    if ctx.access.notice:
        st.warning(ctx.access.notice, icon=":material/lock:")
    start_confirmed(ctx)
    job = st.session_state.get(Keys.DRAIN_JOB)
    if isinstance(job, DrainJob):
        req = job.plan.request
        st.markdown(f"**{req.entity}** older than **{fmt_ts(req.before)}**, batches of "
                    f"{req.limit:,}, started {fmt_ts(job.started_at)} by {job.operator}.")
        if job.done:
            finished(ctx, job)
        else:
            live_progress(job)
        return
    controls(ctx)
    confirm.show_if_pending(ctx, ("drain",))


main()
