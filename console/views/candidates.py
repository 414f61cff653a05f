"""Candidates: what is prunable now, how old it is, and the capped prune of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from console import actions, confirm, context, previews
from console.actions import Outcome, PruneRequest
from console.charts import age_histogram
from console.context import ConsoleContext
from console.state import Keys
from console.widgets import (
    counts_table,
    cutoff_picker,
    drop_selection,
    entity_picker,
    fmt_age,
    fmt_ts,
    limit_picker,
    refresh,
    selectable_table,
)
from core import registry
from core.preview import Preview
from core.repository.pruner import Pruner

PRUNE_KINDS = ("oldest", "selected")


def run_pending_action(ctx: ConsoleContext) -> None:
    """Execute a confirmed prune, in the page body under st.status."""
    confirmed = confirm.take_confirmed(PRUNE_KINDS)
    if confirmed is None:
        return
    plan, confirmation = confirmed
    req = plan.request
    with st.status(f"Pruning up to {plan.rows:,} {req.entity}…", expanded=True) as status:
        outcome = ctx.attempt(lambda: actions.execute_prune(ctx, plan, confirmation))
        if outcome is None:
            status.update(label=f"Prune of {req.entity} failed: nothing was deleted",
                          state="error")
            return
        # Before anything else is drawn (a rerun could interrupt the next element call):
        st.session_state[Keys.OUTCOME] = outcome
        forget_candidates()
        status.update(label=f"Pruned {outcome.result.count:,} {req.entity} "
                            f"(run #{outcome.result.run_id})", state="complete", expanded=False)


def run_rehearsal(ctx: ConsoleContext, entity: str, before: datetime, limit: int) -> None:
    with st.status(f"Rehearsing a prune of {limit:,} {entity}…") as status:
        outcome = ctx.attempt(lambda: actions.rehearse_oldest(ctx, entity, before, limit))
        if outcome is None:
            status.update(label="Rehearsal failed", state="error")
            return
        st.session_state[Keys.OUTCOME] = outcome
        status.update(label="Rehearsal done: nothing was deleted", state="complete")


def forget_candidates() -> None:
    """After a prune: no cached preview and no row selection may survive."""
    previews.clear()
    drop_selection(Keys.CANDIDATES_TABLE)


def show_outcome(outcome: Outcome) -> None:
    result = outcome.result
    with st.container(border=True):
        if outcome.kind == "rehearsal":
            st.info(f"Rehearsal (rolled back, nothing deleted, run #{result.run_id}): a prune of "
                    f"the {result.limit:,} oldest {result.entity} would delete "
                    f"{result.count:,} rows of {result.entity} now.",
                    icon=":material/science:")
        else:
            st.success(f"Pruned {result.count:,} {result.entity} (run #{result.run_id}), "
                       f"cutoff {fmt_ts(result.cutoff)}.", icon=":material/check_circle:")
        cols = st.columns(3)
        cols[0].metric("Rows of " + result.entity, f"{result.count:,}")
        cols[1].metric("All tables", f"{sum(result.deleted.values()):,}")
        cols[2].metric("Run id", f"#{result.run_id}")
        left, right = st.columns([1, 2])
        with left:
            counts_table(result.deleted, key="outcome.tables")
        if outcome.kind == "prune":
            right.dataframe(pd.DataFrame({"id": [str(i) for i in result.ids]}),
                            hide_index=True, height=220, key="outcome.ids")
            if result.skipped:
                st.warning(f"{len(result.skipped):,} selected ids no longer qualified and were "
                           "skipped.")
            st.download_button(
                "Download CSV", data=outcome.csv or "", mime="text/csv", on_click="ignore",
                file_name=f"pruned-{result.entity}-run{result.run_id}.csv",
                icon=":material/download:", type="primary", key="outcome.download")
        st.button("Dismiss", on_click=lambda: st.session_state.pop(Keys.OUTCOME, None),
                  type="tertiary", key="outcome.dismiss")


def show_metrics(pv: Preview, pruner: Pruner) -> None:
    cols = st.columns(4)
    cols[0].metric("Candidates", f"{pv.candidates:,}",
                   help=f"Terminal {pruner.name} older than the cutoff that nothing blocks.")
    blocked_help = "\n".join(f"- {reason}: {n:,}" for reason, n in pv.blocked_by.items())
    cols[1].metric("Blocked", f"{pv.blocked:,}",
                   help=blocked_help or "Nothing can block this entity.")
    cols[2].metric("Oldest", fmt_age(pv.as_of - pv.oldest if pv.oldest else None),
                   help=f"Oldest candidate: {fmt_ts(pv.oldest)}")
    cols[3].metric("A prune deletes", f"{pv.would_delete:,}",
                   help=f"The {pv.limit:,} oldest candidates at most (the limit).")
    st.caption(f"A prune of the {pv.would_delete:,} oldest deletes, per table: " + " · ".join(
        f"**{table}** {n:,}" for table, n in pv.cascade.items()))


def age_days(as_of: datetime, t: Any) -> float | None:
    """Days between a boundary value and the preview; None for ±infinity and naive values."""
    if not isinstance(t, datetime) or t.tzinfo is None:
        return None
    return (as_of - t).total_seconds() / 86400


def row_key(pruner: Pruner, row: dict[str, Any]) -> Any:
    """A sample row's key: the value, or a tuple for a composite key."""
    values = tuple(row[c.name] for c in pruner.key)
    return values[0] if len(values) == 1 else values


def candidates_frame(pv: Preview, pruner: Pruner) -> pd.DataFrame:
    """The oldest candidates for display: id, timestamp and age first; ids as text."""
    frame = pd.DataFrame(pv.sample)
    if frame.empty:
        return frame
    keys, ts = [c.name for c in pruner.key], pruner.timestamp
    frame.insert(0, "age (days)", [age_days(pv.as_of, t) for t in frame[ts]])
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].map(lambda v: v if v is None or isinstance(v, str)
                                        else str(v))
    first = [*keys, ts, "age (days)"]
    return frame[first + [c for c in frame.columns if c not in first]]


def candidates_table(pv: Preview, pruner: Pruner) -> list[Any]:
    """The table of oldest candidates; returns the ids of the selected rows."""
    st.markdown(f"**Oldest {len(pv.sample):,} candidates** — select rows to prune just those.")
    return selectable_table(
        candidates_frame(pv, pruner), [row_key(pruner, row) for row in pv.sample],
        Keys.CANDIDATES_TABLE, height=300,
        column_config={"age (days)": st.column_config.NumberColumn(format="%.1f")})


def main() -> None:
    ctx = context.current()
    st.title("Prune candidates")
    if ctx.access.notice:
        st.warning(ctx.access.notice, icon=":material/lock:")

    with st.container(border=True):
        c1, c2, c3, c4, c5 = st.columns([2, 1.6, 1.8, 1.8, 1.1], vertical_alignment="bottom")
        with c1:
            entity = entity_picker()
        cutoff = cutoff_picker(c2, c3)
        with c4:
            limit = limit_picker()
        c5.button("Refresh", on_click=refresh, icon=":material/refresh:",
                  help="Count again, with the cutoff measured from now.")
        st.caption(f"Cutoff: {cutoff.description}.")
    pruner = ctx.fetch(lambda db: registry.resolve(db, entity), f"choosing the {entity} model")
    if pruner is None:
        return

    run_pending_action(ctx)
    if st.session_state.get(Keys.REHEARSE):
        st.session_state.pop(Keys.REHEARSE)
        run_rehearsal(ctx, entity, cutoff.before, limit)
    if outcome := st.session_state.get(Keys.OUTCOME):
        show_outcome(outcome)

    pv = ctx.attempt(lambda: previews.cached_preview(
        ctx.database_url, entity, cutoff.before, limit, ctx.settings.sample_size,
        ctx.settings.core.prune))
    if pv is None:
        return
    show_metrics(pv, pruner)
    if pv.candidates:
        st.altair_chart(age_histogram(pv), width="stretch")
    else:
        st.info(f"Nothing to prune: no {entity} row qualifies ({cutoff.description}).")
    selected = candidates_table(pv, pruner) if pv.sample else []
    st.caption(f"As of {fmt_ts(pv.as_of)}.")

    can = ctx.access.can_prune
    why = None if can else ctx.access.notice
    cols = st.columns(3)
    cols[0].button("Rehearse", disabled=not can or not pv.candidates, help=why or (
        "Run the exact prune and roll it back: exact per-table counts, nothing changes."),
        on_click=lambda: st.session_state.__setitem__(Keys.REHEARSE, True),
        icon=":material/science:", width="stretch")
    cols[1].button(
        f"Prune {pv.would_delete:,} oldest", type="primary", width="stretch",
        disabled=not can or not pv.would_delete, help=why, icon=":material/delete_sweep:",
        on_click=confirm.request,
        args=(PruneRequest("oldest", entity, cutoff.before, limit),))
    cols[2].button(
        f"Prune {len(selected):,} selected", width="stretch", icon=":material/delete:",
        disabled=not can or not selected, help=why or "Select rows in the table first.",
        on_click=confirm.request,
        args=(PruneRequest("selected", entity, cutoff.before, len(selected) or 1,
                           ids=tuple(selected)),))
    confirm.show_if_pending(ctx, PRUNE_KINDS)


main()
