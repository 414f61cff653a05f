"""Controls and formatting shared by the pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

import streamlit as st

from console.charts import counts_frame
from console.state import Keys
from core import registry
from core.settings import DEFAULT_LIMIT

DEFAULT_DAYS = 90
DEFAULT_ENTITY = "sessions"
MODE_DAYS, MODE_DATE = "By age", "By date"

# Widget values that must survive switching pages (Streamlit drops the state of widgets that a
# run does not draw unless the key is written again).
SHARED_KEYS = (Keys.ENTITY, Keys.CUTOFF_MODE, Keys.CUTOFF_DAYS, Keys.CUTOFF_DATE, Keys.LIMIT)


def keep_shared_widget_state(max_limit: int) -> None:
    """Called by app.py each run. Defaults go into session state rather than `value=`, so a
    widget never has both (Streamlit warns on the page when it does)."""
    st.session_state[Keys.MAX_LIMIT] = max_limit
    now = anchor()
    names = registry.names()
    defaults = {
        Keys.ENTITY: DEFAULT_ENTITY if DEFAULT_ENTITY in names else names[0],
        Keys.CUTOFF_MODE: MODE_DAYS,
        Keys.CUTOFF_DAYS: DEFAULT_DAYS,
        Keys.CUTOFF_DATE: (now - timedelta(days=DEFAULT_DAYS)).date(),
        Keys.LIMIT: min(DEFAULT_LIMIT, max_limit),
    }
    for key in SHARED_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
        elif key in defaults:
            st.session_state[key] = defaults[key]


@dataclass(frozen=True)
class Cutoff:
    before: datetime | None  # UTC; None when the input is invalid (its error is on the page)
    description: str
    error: str | None = None


def anchor() -> datetime:
    """The "now" that day-based cutoffs count from. Frozen until Refresh, so a cutoff (and the
    selection made against its candidates) does not drift between reruns."""
    if Keys.ANCHOR not in st.session_state:
        st.session_state[Keys.ANCHOR] = datetime.now(UTC).replace(second=0, microsecond=0)
    now: datetime = st.session_state[Keys.ANCHOR]
    return now


def refresh() -> None:
    """Button callback: move the anchor to now and forget every cached preview."""
    from console import previews

    st.session_state[Keys.ANCHOR] = datetime.now(UTC).replace(second=0, microsecond=0)
    previews.clear()


def max_limit() -> int:
    """The largest limit of this console (PRUNER_MAX_LIMIT, read once per run by app.py)."""
    return int(st.session_state[Keys.MAX_LIMIT])


def fmt_ts(ts: datetime | None) -> str:
    return "—" if ts is None else ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def fmt_age(delta: timedelta | None) -> str:
    if delta is None:
        return "—"
    days = delta.total_seconds() / 86400
    if days >= 2:
        return f"{days:,.0f} days"
    hours = delta.total_seconds() / 3600
    return f"{hours:,.1f} hours" if hours >= 1 else f"{delta.total_seconds() / 60:,.0f} minutes"


def fmt_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{n} B"


def entity_picker() -> str:
    names = registry.names()
    return st.selectbox(
        "Entity", names, key=Keys.ENTITY,
        help="\n".join(f"- **{p.name}**: {p.description}" for p in registry.all_pruners()),
    )


MAX_DAYS = 36_500


def field_error(slot: Any, message: str | None) -> None:
    """An invalid input's message, drawn right under its field."""
    if message:
        slot.error(message, icon=":material/error:")


def checked_number(slot: Any, label: str, key: str, low: float, high: float, *,
                   whole: bool = True, **kwargs: Any) -> float | None:
    """A number input whose value is checked here rather than clamped by the widget: a value
    out of range stays visible with its error under the field and the caller gets None, never
    a previous value."""
    value = slot.number_input(label, key=key, **kwargs)
    if value is None:
        field_error(slot, f"{label}: enter a number.")
        return None
    if not low <= value <= high:
        span = f"{low:,} to {high:,}" if whole else f"{low:g} to {high:g}"
        field_error(slot, f"{label}: must be from {span}.")
        return None
    return int(value) if whole else float(value)


def cutoff_picker(mode_slot: Any = None, value_slot: Any = None) -> Cutoff:
    """The cutoff as "older than N days" (from the anchor) or "before a date" (UTC midnight).
    `mode_slot` / `value_slot` are containers (e.g. columns) to draw the two inputs in. An
    invalid value (a negative age, a date in the future) is shown with its error under the
    field and gives a Cutoff without `before`."""
    mode_slot = mode_slot or st.container()
    value_slot = value_slot or st.container()
    mode = mode_slot.segmented_control("Cutoff", [MODE_DAYS, MODE_DATE], key=Keys.CUTOFF_MODE,
                                       required=True)
    now = anchor()
    if mode == MODE_DATE:
        day = value_slot.date_input("Before (UTC midnight)", key=Keys.CUTOFF_DATE,
                                    min_value=date(1900, 1, 1), max_value=date(9999, 12, 31))
        if not isinstance(day, date):
            error = "Pick a date."
        elif datetime.combine(day, time(0), tzinfo=UTC) > now:
            error = f"{day.isoformat()} is in the future: nothing that old exists yet."
        else:
            before = datetime.combine(day, time(0), tzinfo=UTC)
            return Cutoff(before, f"before {fmt_ts(before)}")
        field_error(value_slot, error)
        return Cutoff(None, error, error)
    days = checked_number(value_slot, "Older than (days)", Keys.CUTOFF_DAYS, 0, MAX_DAYS,
                          step=1)
    if days is None:
        return Cutoff(None, "invalid age", "invalid age")
    before = now - timedelta(days=int(days))
    return Cutoff(before, f"older than {int(days):,} days: before {fmt_ts(before)}")


def limit_picker(label: str = "Limit (rows per prune)", slot: Any = None) -> int | None:
    """The limit, or None (its error shown under the field) when it is not 1..max."""
    top = max_limit()
    value = checked_number(slot or st, label, Keys.LIMIT, 1, top, step=100,
                           help=f"At most {top:,} (PRUNER_MAX_LIMIT).")
    return None if value is None else int(value)


def selectable_table(frame: Any, ids: Sequence[Any], name: str, *,
                     selection_mode: Literal["multi-row", "single-row"] = "multi-row",
                     **kwargs: Any) -> list[Any]:
    """A dataframe whose row selection is returned as ids, never as stale positions.

    Selections are row positions. When the rows under a selection change (new filter, refreshed
    cache, another operator's prune), the table gets a new key, which drops the selection rather
    than letting its positions point at other rows.
    """
    gen_key, ids_key = f"{name}.generation", f"{name}.ids"
    generation = st.session_state.get(gen_key, 0)
    ids = tuple(ids)
    seen = st.session_state.get(ids_key)
    if seen is not None and seen != (generation, ids):
        generation += 1
        st.session_state[gen_key] = generation
    st.session_state[ids_key] = (generation, ids)
    event = st.dataframe(frame, key=f"{name}.{generation}", on_select="rerun",
                         selection_mode=selection_mode, hide_index=True, **kwargs)
    return [ids[i] for i in event.selection.rows if 0 <= i < len(ids)]


def drop_selection(name: str) -> None:
    """Forget a selectable table's selection (its next draw gets a fresh key)."""
    gen_key = f"{name}.generation"
    st.session_state[gen_key] = st.session_state.get(gen_key, 0) + 1
    st.session_state.pop(f"{name}.ids", None)


def metric_row(n: int) -> list[Any]:
    """`n` slots for st.metric, side by side, that wrap onto a new line when the page is narrow
    instead of cutting values short (four columns cut "365 days" to "365 d…" at 1024 px)."""
    row = st.container(horizontal=True, gap="medium")
    return [row] * n


def counts_table(counts: dict[str, int], key: str) -> None:
    """Rows per table, as a compact table with thousands separators."""
    st.dataframe(counts_frame(counts), hide_index=True, width="content", key=key,
                 column_config={"rows": st.column_config.NumberColumn(format="localized")})
