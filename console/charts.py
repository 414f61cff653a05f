"""Pictures and tables of core's results, for the console and the notebook (Altair, pandas).

`age_histogram(pv)` is the one picture of an entity: every terminal row by the time it became
terminal, in bins that `core.preview` aligned on the cutoff (no bin straddles it), stacked by
class — `next` (the next capped prune takes them), `later` (candidates after that), `blocked`
(by reason), `young` (not older than the cutoff) — with the cutoff as a rule and the x axis fixed
from the oldest row (or an earlier `since`) to the preview's "now", so a picture taken after a
prune compares with the one before it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import altair as alt
import pandas as pd

from core.preview import HistogramBin, Preview

NEXT, LATER, YOUNG = "next prune", "later", "not old enough"
BLOCKED = "blocked"
SEVERAL = "blocked: several reasons"
COLORS = {NEXT: "#c62828", LATER: "#ef9a9a", YOUNG: "#90caf9"}
BLOCKED_COLORS = ["#616161", "#8e24aa", "#795548", "#9e9d24", "#bdbdbd", "#5c6bc0"]
FRAME_COLUMNS = ["start", "end", "class", "order", "rows", "y0", "y1", "from", "to",
                 "bin next", "bin later", "bin blocked", "bin young", "blocked by", "aria"]


def histogram_frame(pv: Preview) -> pd.DataFrame:
    """One row per age bin: start, end, the candidates (`count`), each class, and the bin's age
    range in days before the preview."""
    rows = [{"start": b.start, "end": b.end, "count": b.count, "next": b.next,
             "later": b.later, "blocked": b.blocked, "young": b.young,
             "age_days_from": (pv.as_of - b.end).total_seconds() / 86400,
             "age_days_to": (pv.as_of - b.start).total_seconds() / 86400}
            for b in pv.histogram]
    return pd.DataFrame(rows, columns=["start", "end", "count", "next", "later", "blocked",
                                       "young", "age_days_from", "age_days_to"])


def counts_frame(counts: dict[str, int]) -> pd.DataFrame:
    """Rows per table."""
    return pd.DataFrame({"table": list(counts), "rows": list(counts.values())})


def blocked_label(reason: str) -> str:
    return f"{BLOCKED}: {reason}"


def legend(pv: Preview) -> list[str]:
    """The classes in stacking order (bottom first), blocked split by reason: next, later and
    not-old-enough always (a stable legend to compare pictures by), a reason when it blocks a
    row, "several reasons" when a bin's reasons overlap."""
    several = any(_segments(b)[2][0] == SEVERAL for b in pv.histogram if b.blocked)
    return [NEXT, LATER, *(blocked_label(r) for r, n in pv.blocked_by.items() if n),
            *([SEVERAL] if several else []), YOUNG]


def _segments(b: HistogramBin) -> list[tuple[str, int]]:
    """A bin's stacked pieces. A row may be blocked for several reasons; when a bin's reasons
    overlap, its blocked rows are one piece (their reasons are in the tooltip), so every row is
    drawn exactly once."""
    blocked = [(blocked_label(r), n) for r, n in b.blocked_by.items() if n]
    if sum(n for _, n in blocked) != b.blocked:
        blocked = [(SEVERAL, b.blocked)]
    return [(NEXT, b.next), (LATER, b.later), *blocked, (YOUNG, b.young)]


def _when(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def class_frame(pv: Preview) -> pd.DataFrame:
    """One row per (bin, class) with rows in it: where the piece sits in the stack (y0, y1),
    the bin clipped to the preview's "now", and the bin's counts for the tooltip."""
    order = {name: i for i, name in enumerate(legend(pv))}
    order.setdefault(SEVERAL, len(order))
    out: list[dict[str, Any]] = []
    for b in pv.histogram:
        end = min(b.end, pv.as_of)
        reasons = "; ".join(f"{r}: {n:,}" for r, n in b.blocked_by.items() if n) or "—"
        y = 0
        for name, n in _segments(b):
            if n <= 0:
                continue
            out.append({"start": b.start, "end": end, "class": name, "order": order[name],
                        "rows": n, "y0": y, "y1": y + n, "from": _when(b.start),
                        "to": _when(end), "bin next": b.next, "bin later": b.later,
                        "bin blocked": b.blocked, "bin young": b.young, "blocked by": reasons,
                        "aria": f"{name}: {n:,} rows from {_when(b.start)} to {_when(end)}"})
            y += n
    return pd.DataFrame(out, columns=FRAME_COLUMNS)


def domain(pv: Preview, since: datetime | None = None) -> tuple[datetime, datetime]:
    """The x domain: the oldest bin's start (or `since`, when earlier) to the preview's now."""
    starts = [b.start for b in pv.histogram]
    lo = min([*starts, *([since] if since else [])], default=pv.cutoff)
    return min(lo, pv.cutoff), max(pv.as_of, pv.cutoff)


def _ms(t: datetime) -> float:
    return t.timestamp() * 1000


def age_histogram(pv: Preview, since: datetime | None = None) -> alt.LayerChart:
    """Terminal rows by age, stacked by class, the cutoff as a rule; x fixed from the oldest row
    (or `since`, to compare with an earlier picture) to now."""
    frame = class_frame(pv)
    names = legend(pv)
    blocked_names = [n for n in names if n.startswith(BLOCKED)]
    colors = {**COLORS, **{n: BLOCKED_COLORS[i % len(BLOCKED_COLORS)]
                           for i, n in enumerate(blocked_names)}}
    lo, hi = domain(pv, since)
    x_scale = alt.Scale(type="utc", domain=[_ms(lo), _ms(hi)], nice=False)
    x_axis = alt.Axis(title="when the row became terminal (UTC)", format="%Y-%m-%d",
                      labelOverlap=True)
    next_n = sum(b.next for b in pv.histogram)
    title = alt.TitleParams(
        f"{pv.entity}: terminal rows by age",
        subtitle=f"{next_n:,} go with the next prune (limit {pv.limit:,}) · "
                 f"{pv.candidates - next_n:,} later · {pv.blocked:,} blocked · "
                 f"{pv.young:,} not old enough", anchor="start")
    bars = alt.Chart(frame).mark_bar(stroke="white", strokeWidth=0.3).encode(
        x=alt.X("start:T", scale=x_scale, axis=x_axis),
        x2="end:T",
        y=alt.Y("y0:Q", title="rows"),
        y2="y1:Q",
        color=alt.Color("class:N", title=None, scale=alt.Scale(
            domain=names, range=[colors.get(n, "#999999") for n in names]),
            legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=600)),
        order=alt.Order("order:Q"),
        description=alt.Description("aria:N"),  # what a screen reader (and a test) reads
        tooltip=[alt.Tooltip("class:N", title="class"),
                 alt.Tooltip("rows:Q", title="rows", format=","),
                 alt.Tooltip("from:N", title="from"), alt.Tooltip("to:N", title="to"),
                 alt.Tooltip("bin next:Q", title="next prune", format=","),
                 alt.Tooltip("bin later:Q", title="later", format=","),
                 alt.Tooltip("bin blocked:Q", title="blocked", format=","),
                 alt.Tooltip("bin young:Q", title="not old enough", format=","),
                 alt.Tooltip("blocked by:N", title="blocked by")],
    )
    cut = pd.DataFrame({"cutoff": [pv.cutoff], "label": [f"cutoff {_when(pv.cutoff)}"]})
    rule = alt.Chart(cut).mark_rule(color="black", strokeDash=[6, 3], strokeWidth=2).encode(
        x=alt.X("cutoff:T", scale=x_scale, axis=x_axis), description=alt.Description("label:N"),
        tooltip=[alt.Tooltip("label:N", title="cutoff")])
    text = alt.Chart(cut).mark_text(align="right", baseline="top", dx=-4, dy=4).encode(
        x=alt.X("cutoff:T", scale=x_scale, axis=x_axis), y=alt.value(0), text="label:N")
    # fit-x: the width follows the page, the plot keeps its height and the legend goes below it
    # (a plain "fit" squeezes the plot to make room for the legend)
    return alt.LayerChart(layer=[bars, rule, text], title=title, height=300,
                          autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
