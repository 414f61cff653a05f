"""Candidates: what is prunable now, how old it is, and the capped prune of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from console import actions, confirm, context, previews
from console.actions import PruneRequest
from console.charts import age_histogram
from console.context import ConsoleContext
from console.outcomes import show_outcome
from console.state import Keys
from console.widgets import (
    Cutoff,
    cutoff_picker,
    drop_selection,
    entity_picker,
    fmt_age,
    fmt_ts,
    limit_picker,
    metric_row,
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


def show_metrics(pv: Preview, pruner: Pruner) -> None:
    cols = metric_row(4)
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


def blocked_frame(pv: Preview, pruner: Pruner) -> pd.DataFrame:
    """Blocked rows (the oldest of them): key, timestamp, age and every reason that holds it."""
    keys, ts = [c.name for c in pruner.key], pruner.timestamp
    return pd.DataFrame([{
        **{k: str(row[k]) for k in keys}, ts: row[ts], "age (days)": age_days(pv.as_of, row[ts]),
        "blocked because": "; ".join(row.get("reasons") or [])}
        for row in pv.blocked_sample], columns=[*keys, ts, "age (days)", "blocked because"])


def blocked_table(pv: Preview, pruner: Pruner) -> None:
    if not pv.blocked:
        st.caption("No row older than the cutoff is blocked.")
        return
    st.markdown(f"**The oldest {len(pv.blocked_sample):,} of {pv.blocked:,} blocked rows**, "
                "with what holds each back. They stay until the reason goes away.")
    st.dataframe(blocked_frame(pv, pruner), hide_index=True, key="candidates.blocked",
                 column_config={"age (days)": st.column_config.NumberColumn(format="%.1f")})
    st.caption(" · ".join(f"{reason}: **{n:,}**" for reason, n in pv.blocked_by.items() if n))


def chart_since(entity: str, pv: Preview) -> Any:
    """The x axis starts where this session's first picture of the entity started, so a picture
    after a prune compares with the one before it."""
    seen: dict[str, Any] = st.session_state.setdefault(Keys.CHART_SINCE, {})
    start = min((b.start for b in pv.histogram), default=None)
    if start is not None and (entity not in seen or start < seen[entity]):
        seen[entity] = start
    return seen.get(entity)


def inputs() -> tuple[str, Cutoff, int | None]:
    """Entity, cutoff and limit, each checked: an invalid one is None with its error shown."""
    with st.container(border=True):
        c1, c2, c3 = st.columns([1.2, 1.3, 1.2])
        with c1:
            entity = entity_picker()
        cutoff = cutoff_picker(c2, c3)
        c4, c5, c6 = st.columns([1.2, 1.3, 1.2], vertical_alignment="bottom")
        limit = limit_picker(slot=c4)
        c5.button("Refresh", on_click=refresh, icon=":material/refresh:", width="stretch",
                  help="Count again, with the cutoff measured from now.")
        if cutoff.before is not None:
            c6.caption(f"Cutoff: {cutoff.description}.")
    return entity, cutoff, limit


def action_buttons(ctx: ConsoleContext, entity: str, before: datetime | None,
                   limit: int | None, pv: Preview | None, selected: list[Any]) -> None:
    """Rehearse / prune oldest / prune selected; all disabled while an input is invalid."""
    can = ctx.access.can_prune
    why = None if can else ctx.access.notice
    oldest = chosen = None
    if before is not None and limit is not None and pv is not None:
        oldest = (PruneRequest("oldest", entity, before, limit),)
        chosen = (PruneRequest("selected", entity, before, len(selected) or 1,
                               ids=tuple(selected)),)
    else:
        why = why or "Correct the inputs above first."
    n = pv.would_delete if pv is not None else 0
    cols = st.columns(3)
    cols[0].button("Rehearse", disabled=not can or not oldest or not n, help=why or (
        "Run the exact prune and roll it back: exact per-table counts, nothing changes."),
        on_click=lambda: st.session_state.__setitem__(Keys.REHEARSE, True),
        icon=":material/science:", width="stretch")
    cols[1].button(
        f"Prune {n:,} oldest" if oldest else "Prune oldest", type="primary", width="stretch",
        disabled=not can or not oldest or not n, help=why, icon=":material/delete_sweep:",
        on_click=confirm.request, args=oldest)
    cols[2].button(
        f"Prune {len(selected):,} selected", width="stretch", icon=":material/delete:",
        disabled=not can or not chosen or not selected,
        help=why or "Select rows in the table first.", on_click=confirm.request, args=chosen)


def main() -> None:
    ctx = context.current()
    st.title("Prune candidates")
    if ctx.access.notice:
        st.warning(ctx.access.notice, icon=":material/lock:")
    entity, cutoff, limit = inputs()
    pruner = ctx.fetch(lambda db: registry.resolve(db, entity), f"choosing the {entity} model")
    if pruner is None:
        return

    run_pending_action(ctx)
    if st.session_state.get(Keys.REHEARSE):
        st.session_state.pop(Keys.REHEARSE)
        if cutoff.before is not None and limit is not None:
            run_rehearsal(ctx, entity, cutoff.before, limit)
    if outcome := st.session_state.get(Keys.OUTCOME):
        show_outcome(outcome, Keys.OUTCOME)

    if cutoff.before is None or limit is None:
        st.info("Nothing is counted while an input above is invalid: correct it to see the "
                "candidates.", icon=":material/edit:")
        action_buttons(ctx, entity, None, None, None, [])
        confirm.cancel()
        return
    before = cutoff.before
    pv = ctx.attempt(lambda: previews.cached_preview(
        ctx.database_url, entity, before, limit, ctx.settings.sample_size,
        ctx.settings.core.prune))
    if pv is None:
        return
    show_metrics(pv, pruner)
    if pv.terminal_rows:
        st.altair_chart(age_histogram(pv, chart_since(entity, pv)), width="stretch",
                        key="candidates.chart")
    if not pv.candidates:
        st.info(f"Nothing to prune: no {entity} row qualifies ({cutoff.description}).")
    rows_tab, blocked_tab = st.tabs([f"Oldest candidates ({len(pv.sample):,})",
                                     f"Blocked ({pv.blocked:,})"])
    with rows_tab:
        selected = candidates_table(pv, pruner) if pv.sample else []
    with blocked_tab:
        blocked_table(pv, pruner)
    st.caption(f"As of {fmt_ts(pv.as_of)}.")
    action_buttons(ctx, entity, before, limit, pv, selected)
    confirm.show_if_pending(ctx, PRUNE_KINDS)


main()
