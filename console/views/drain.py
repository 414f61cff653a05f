"""Drain: a whole backlog in capped batches; every running drain, from any tab, with Stop.

A drain runs on the runtime's loop as a future (it outlives any one script run, and its tab) and
records its progress, heartbeat and stop flag in the journal (`pruner.prune_drains`). This page
lists every running drain from there — started in this tab, another tab, another console or
`pruner drain` — refreshed by a fragment, and Stop sets the drain's flag, which it reads between
batches. The tab that started a drain also gets its result and CSV when it ends. Rows a drain
parked are listed below, and can be retried.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from console import actions, confirm, context, previews
from console.actions import DrainJob, PruneRequest
from console.context import ConsoleContext
from console.outcomes import show_outcome
from console.state import Keys
from console.widgets import (
    checked_number,
    counts_table,
    cutoff_picker,
    drop_selection,
    entity_picker,
    fmt_age,
    fmt_ts,
    max_limit,
    metric_row,
    selectable_table,
)
from core import journal
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


def retry_confirmed(ctx: ConsoleContext) -> None:
    """Prune confirmed parked rows again (released from the parked list when they go)."""
    confirmed = confirm.take_confirmed(("retry",))
    if confirmed is None:
        return
    plan, confirmation = confirmed
    outcome = ctx.attempt(lambda: actions.execute_prune(ctx, plan, confirmation))
    if outcome is not None:
        st.session_state[Keys.RETRY_OUTCOME] = outcome
        previews.clear()
        drop_selection(Keys.PARKED_TABLE)


def stop(ctx: ConsoleContext, drain_id: str) -> None:
    """Stop's callback: the drain's flag in the journal (and this tab's own job at once)."""
    job = st.session_state.get(Keys.DRAIN_JOB)
    if isinstance(job, DrainJob) and job.drain_id == drain_id:
        job.stop()
    ctx.attempt(lambda: actions.stop_drain(ctx, drain_id))


def reach(d: journal.drains.Drain) -> int:
    """How many rows the drain can take at most: its estimate, capped by its batch limit."""
    top = d.estimated if d.max_batches is None else min(d.estimated, d.max_batches * d.batch_size)
    return max(top, d.count, 1)


def one_drain(ctx: ConsoleContext, d: journal.drains.Drain, now: datetime) -> None:
    with st.container(border=True):
        batches = f"at most {d.max_batches:,} batches" if d.max_batches else "until done"
        st.markdown(f"**{d.entity}** · drain `{d.id[:8]}` · started {fmt_ts(d.started_at)} by "
                    f"{d.operator} · cutoff {fmt_ts(d.cutoff)} · batches of {d.batch_size:,} "
                    f"({batches})")
        total = reach(d)
        st.progress(min(d.count / total, 1.0),
                    text=f"{d.count:,} of about {total:,} {d.entity} deleted · "
                         f"{d.batches:,} batches · {d.busy:,} busy · {d.parked:,} parked")
        if d.abandoned(now):
            st.warning(f"No heartbeat for {fmt_age(now - d.heartbeat_at)}: the process that "
                       "ran this drain is gone and it will not go on. Its committed batches "
                       "stay; start a new drain for the rest.", icon=":material/heart_broken:")
            return
        if d.stop_requested:
            st.caption("Stop requested: it stops after the current batch…")
        st.button("Stop", on_click=stop, args=(ctx, d.id), key=f"drain.stop.{d.id}",
                  icon=":material/stop_circle:", disabled=d.stop_requested or
                  not ctx.access.can_prune, help=None if ctx.access.can_prune
                  else ctx.access.notice)


@st.fragment(run_every=POLL_SECONDS)
def running_drains(ctx: ConsoleContext) -> None:
    """Every running drain in the journal, wherever it was started; refreshed every second."""
    job = st.session_state.get(Keys.DRAIN_JOB)
    if isinstance(job, DrainJob) and job.done and not job.caches_cleared:
        st.rerun()  # this tab's drain ended: redraw the whole page once with its result
    drains = ctx.fetch(lambda db: journal.drains.listing(db, running=True),
                       "reading the running drains")
    if drains is None:
        return
    if not drains:
        st.caption("No drain is running.")
        return
    st.subheader(f"Running now ({len(drains):,})")
    now = datetime.now(UTC)
    for d in drains:
        one_drain(ctx, d, now)


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
    cols = metric_row(4)
    cols[0].metric(f"Rows of {result.entity}", f"{result.count:,}")
    cols[1].metric("Batches", f"{result.batches:,}")
    cols[2].metric("All tables", f"{sum(result.deleted.values()):,}")
    cols[3].metric("Busy · parked", f"{result.busy:,} · {len(result.parked):,}",
                   help="Busy: held by another transaction when their batch ran, left for the "
                        "next run. Parked: failed on their own, set aside (listed below).")
    if result.deleted:
        counts_table(result.deleted, key="drain.tables")
    st.caption(f"Drain `{result.drain_id}` · cutoff {fmt_ts(result.cutoff)} · runs " +
               (", ".join(f"#{r}" for r in result.run_ids[:20]) or "none") +
               (" …" if len(result.run_ids) > 20 else ""))
    if result.count and (csv := ctx.attempt(lambda: job.csv(ctx))) is not None:
        st.download_button("Download CSV", data=csv, mime="text/csv", on_click="ignore",
                           file_name=f"drained-{result.entity}-{result.drain_id[:8]}.csv",
                           icon=":material/download:", type="primary", key="drain.download")
    st.button("New drain", on_click=lambda: st.session_state.pop(Keys.DRAIN_JOB, None),
              key="drain.new")


def controls(ctx: ConsoleContext) -> tuple[str, datetime | None]:
    """The new-drain form; returns the entity and the cutoff (None while it is invalid)."""
    st.subheader("Start a drain")
    with st.container(border=True):
        c1, c2, c3 = st.columns(3)
        with c1:
            entity = entity_picker()
        cutoff = cutoff_picker(c2, c3)
        c4, c5, c6 = st.columns(3)
        st.session_state.setdefault(Keys.DRAIN_BATCH, min(DEFAULT_LIMIT, max_limit()))
        st.session_state.setdefault(Keys.DRAIN_MAX_BATCHES, 0)
        st.session_state.setdefault(Keys.DRAIN_PAUSE, 0.0)
        batch = checked_number(c4, "Batch size", Keys.DRAIN_BATCH, 1, max_limit(), step=100,
                               help="Rows per transaction; each batch is journaled.")
        max_batches = checked_number(c5, "Max batches (0 = until done)",
                                     Keys.DRAIN_MAX_BATCHES, 0, 1_000_000, step=1)
        pause = checked_number(c6, "Pause (s)", Keys.DRAIN_PAUSE, 0, 60,
                               whole=False, step=0.5,
                               help="Seconds between batches: room for replicas and "
                                    "autovacuum to keep up.")
        if cutoff.before is not None:
            st.caption(f"Cutoff: {cutoff.description}. The cutoff is frozen when the drain "
                       "starts.")
    can = ctx.access.can_prune
    before = cutoff.before
    if before is None or batch is None or max_batches is None or pause is None:
        st.button("Start drain…", type="primary", icon=":material/play_arrow:", disabled=True,
                  help="Correct the inputs above first.")
        return entity, before
    pv = ctx.attempt(lambda: previews.cached_preview(
        ctx.database_url, entity, before, int(batch), 0, ctx.settings.core.prune))
    if pv is None:
        return entity, before
    batches = -(-pv.candidates // int(batch)) if pv.candidates else 0
    if max_batches:
        batches = min(batches, int(max_batches))
    st.metric("Candidates now", f"{pv.candidates:,}")
    cap = f" (at most {int(max_batches):,})" if max_batches else ""
    st.caption(f"About {batches:,} batches of {int(batch):,}{cap}, {pause:g} s apart.")
    st.button("Start drain…", type="primary", icon=":material/play_arrow:",
              disabled=not can or not pv.candidates, help=None if can else ctx.access.notice,
              on_click=confirm.request,
              args=(PruneRequest("drain", entity, before, int(batch),
                                 max_batches=int(max_batches) or None, pause_seconds=pause),))
    return entity, before


def parked_rows(ctx: ConsoleContext, entity: str, before: datetime | None) -> None:
    """Rows a drain set aside (a failure of their own), with why; retry selected ones."""
    st.subheader("Parked rows")
    parked = ctx.fetch(lambda db: journal.parked.listing(db, entity), "reading the parked rows")
    if parked is None:
        return
    if not parked:
        st.caption(f"No {entity} row is parked. A drain parks a row whose prune keeps failing "
                   "on its own (and goes on without it); it shows here with the reason.")
        return
    frame = pd.DataFrame([{"row": p.row_key, "reason": ctx.scrub(p.reason),
                           "parked at": p.parked_at, "drain": (p.drain_id or "")[:8]}
                          for p in parked])
    selected = selectable_table(frame, [p.row_key for p in parked], Keys.PARKED_TABLE,
                                column_config={"parked at": st.column_config.DatetimeColumn(
                                    format="YYYY-MM-DD HH:mm:ss")})
    can = ctx.access.can_prune and before is not None and bool(selected)
    st.button(f"Retry {len(selected):,} selected…", disabled=not can, key="drain.retry",
              icon=":material/replay:", help="Prune them again (each must still qualify); "
              "those that go leave the parked list.",
              on_click=confirm.request, args=(PruneRequest(
                  "retry", entity, before, len(selected) or 1, ids=tuple(selected)),)
              if can and before is not None else None)


def main() -> None:
    ctx = context.current()
    st.title("Drain a backlog")
    st.caption("Prunes everything older than the cutoff in capped batches, one transaction "
               "each, until none is left, the batch limit, or Stop.")
    if ctx.access.notice:
        st.warning(ctx.access.notice, icon=":material/lock:")
    start_confirmed(ctx)
    retry_confirmed(ctx)
    job = st.session_state.get(Keys.DRAIN_JOB)
    if isinstance(job, DrainJob) and job.done:
        finished(ctx, job)  # first: it marks the job seen, so the list below does not rerun
    running_drains(ctx)
    if isinstance(job, DrainJob):
        return  # a running job's progress and Stop are in the list above
    if outcome := st.session_state.get(Keys.RETRY_OUTCOME):
        show_outcome(outcome, Keys.RETRY_OUTCOME)
    entity, before = controls(ctx)
    parked_rows(ctx, entity, before)
    confirm.show_if_pending(ctx, ("drain", "retry"))


main()
