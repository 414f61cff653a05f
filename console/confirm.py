"""The confirmation dialog in front of every prune and drain.

A button's `on_click` stores a `PruneRequest` in session state; the page opens the dialog while
one is pending. The dialog computes fresh numbers once (`actions.plan_for`), states exactly what
will be deleted, asks for a reason and, above the configured row count, the entity name. Its
Confirm callback hands `(Plan, Confirmation)` to the page, which executes it in the page body
under `st.status` (not in the dialog), then the dialog is gone.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import streamlit as st

from console import actions
from console.actions import Confirmation, Plan, PruneRequest
from console.context import ConsoleContext
from console.state import Keys
from console.widgets import counts_table, fmt_age, fmt_ts
from core import errors, registry
from core.operations import MAX_REASON

_DIALOG_KEYS = (Keys.PENDING, Keys.PLAN, Keys.PLAN_ERROR, Keys.REASON, Keys.TYPED,
                Keys.CONFIRM_ERROR)


def _forget_dialog() -> None:
    for key in _DIALOG_KEYS:
        st.session_state.pop(key, None)


def request(req: PruneRequest) -> None:
    """on_click of a prune/drain button: open the dialog for `req`."""
    _forget_dialog()
    st.session_state.pop(Keys.CONFIRMED, None)
    st.session_state[Keys.PENDING] = req


def cancel() -> None:
    _forget_dialog()


def _confirm(confirm_above: int) -> None:
    pending = st.session_state.get(Keys.PENDING)
    plan = st.session_state.get(Keys.PLAN)
    if pending is None or not isinstance(plan, Plan) or plan.request != pending:
        return  # a second click after the first one went through
    confirmation = Confirmation(reason=str(st.session_state.get(Keys.REASON) or ""),
                                typed_entity=str(st.session_state.get(Keys.TYPED) or ""))
    try:
        actions.check_confirmation(plan, confirmation, confirm_above)
    except errors.PrunerError as exc:
        st.session_state[Keys.CONFIRM_ERROR] = str(exc)
        return
    _forget_dialog()
    st.session_state[Keys.CONFIRMED] = (plan, confirmation)


def _moment(t: datetime, now: datetime) -> str:
    if t.tzinfo is None:  # the driver's stand-in for ±infinity
        return "**-infinity**" if t == datetime.min else "**infinity**"
    return f"**{fmt_ts(t)}** ({fmt_age(now - t)} old)"


def time_range(plan: Plan) -> str:
    """The oldest and newest entity rows the request deletes, with their ages."""
    if plan.oldest is None or plan.newest is None:
        return ""
    now = plan.computed_at
    if plan.oldest == plan.newest:
        return f"**Time range**: one moment, {_moment(plan.oldest, now)}"
    return (f"**Time range**: from {_moment(plan.oldest, now)} to "
            f"{_moment(plan.newest, now)}")


def describe(plan: Plan) -> None:
    """The exact statement of what the request deletes (or, a restore, puts back)."""
    req = plan.request
    pruner = registry.get(req.entity)
    if req.kind == "restore":
        st.markdown(f"Puts back run **#{req.run_id}** of **{req.entity}**: the **{plan.rows:,}** "
                    f"{req.entity} rows it deleted (cutoff was {fmt_ts(req.before)}) and every "
                    "row deleted with them, in one transaction, from the archive. Rows per "
                    "table:")
        counts_table(plan.per_table, key="confirm.tables")
        st.caption(f"{plan.total:,} rows in all. It refuses, changing nothing, if a key is "
                   "taken again or a row they reference is gone.")
        return
    st.markdown(f"**{req.entity}**: {pruner.description}  \n"
                f"**Cutoff**: `{pruner.timestamp}` before **{fmt_ts(req.before)}**")
    if req.kind == "oldest":
        st.markdown(f"Deletes the **{plan.rows:,} oldest** candidates (cap {req.limit:,}), "
                    "with their dependent rows:")
    elif req.kind in ("selected", "retry"):
        what = "selected" if req.kind == "selected" else "parked (retried)"
        st.markdown(f"Deletes the **{plan.rows:,} {what}** rows that still qualify, with "
                    "their dependent rows:")
        if plan.skipped:
            st.warning(f"{plan.skipped:,} selected rows no longer qualify and will be skipped.")
    else:
        batches = f"at most {req.max_batches:,} batches" if req.max_batches else "until done"
        st.markdown(f"Drains about **{plan.rows:,}** candidates in batches of "
                    f"**{req.limit:,}** ({batches}, {req.pause_seconds:g} s between batches), "
                    "oldest first. Each batch deletes, with its dependent rows, about:")
    if span := time_range(plan):
        st.markdown(span + (" (every candidate now; the drain takes them oldest first)"
                            if req.kind == "drain" else ""))
    counts_table(plan.per_table, key="confirm.tables")
    if plan.updated:
        st.markdown("References set to NULL (the rows stay): " + " · ".join(
            f"**{t}** {n:,}" for t, n in plan.updated.items()))
    st.caption(f"{plan.total:,} rows in all, counted at {fmt_ts(plan.computed_at)}. Deleting is "
               "permanent; the pruned ids are kept in the journal.")


def _body(ctx: ConsoleContext) -> None:
    pending = st.session_state.get(Keys.PENDING)
    if pending is None:
        st.rerun()  # confirmed or cancelled by a callback: close, let the page run it
    plan = st.session_state.get(Keys.PLAN)
    if plan is None and Keys.PLAN_ERROR not in st.session_state:
        try:
            with st.spinner("Counting what this deletes…"):
                plan = actions.plan_for(ctx, pending)
            st.session_state[Keys.PLAN] = plan
        except Exception as exc:  # shown in the dialog, never as a traceback
            message = str(exc) if isinstance(exc, errors.PrunerError) else (
                f"Unexpected error ({type(exc).__name__}): {exc}")
            st.session_state[Keys.PLAN_ERROR] = ctx.scrub(message)
    if error := st.session_state.get(Keys.PLAN_ERROR):
        st.error(error)
        st.button("Close", on_click=cancel)
        return
    assert isinstance(plan, Plan)
    describe(plan)
    if plan.rows <= 0:
        st.info("Nothing qualifies any more: there is nothing to delete.")
        st.button("Close", on_click=cancel)
        return
    st.markdown(f"Operator: **{ctx.access.operator}**")
    st.text_input("Reason (recorded in the journal)", key=Keys.REASON,
                  max_chars=MAX_REASON, placeholder="e.g. ticket OPS-123")
    if actions.needs_typed_confirmation(plan, ctx.settings.confirm_above):
        st.text_input(f"This {'restores' if plan.request.kind == 'restore' else 'deletes'} "
                      f"more than {ctx.settings.confirm_above:,} rows: type "
                      f"**{plan.request.entity}** to confirm", key=Keys.TYPED)
    if error := st.session_state.get(Keys.CONFIRM_ERROR):
        st.error(error)
    left, right = st.columns(2)
    label = {"drain": "Start drain", "restore": f"Restore run #{plan.request.run_id}"}.get(
        plan.request.kind, f"Delete {plan.rows:,} {plan.request.entity}")
    left.button(label, type="primary", on_click=_confirm, args=(ctx.settings.confirm_above,),
                icon=":material/delete_forever:" if plan.request.kind != "restore"
                else ":material/restore:", key="confirm.go")
    right.button("Cancel", on_click=cancel, key="confirm.cancel")


@st.dialog("Confirm permanent delete", width="medium", on_dismiss=cancel)
def _dialog(ctx: ConsoleContext) -> None:
    _body(ctx)


@st.dialog("Confirm restore", width="medium", on_dismiss=cancel)
def _restore_dialog(ctx: ConsoleContext) -> None:
    _body(ctx)


def show_if_pending(ctx: ConsoleContext, kinds: Collection[str]) -> None:
    """Open the dialog if a request of one of `kinds` is pending (another page's is dropped)."""
    pending = st.session_state.get(Keys.PENDING)
    if pending is None:
        return
    if pending.kind not in kinds:
        _forget_dialog()
        return
    (_restore_dialog if pending.kind == "restore" else _dialog)(ctx)


def take_confirmed(kinds: Collection[str]) -> tuple[Plan, Confirmation] | None:
    """The confirmed request for this page, removed from state so it runs exactly once."""
    confirmed = st.session_state.get(Keys.CONFIRMED)
    if confirmed is None or confirmed[0].request.kind not in kinds:
        return None
    taken: tuple[Plan, Confirmation] = st.session_state.pop(Keys.CONFIRMED)
    return taken
