"""Pictures and tables of core's results, for the console and the notebook (Altair, pandas)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from core.preview import Preview


def histogram_frame(pv: Preview) -> pd.DataFrame:
    """One row per age bin: start, end, count and the bin's age range in days."""
    rows = [{"start": b.start, "end": b.end, "count": b.count,
             "age_days_from": (pv.as_of - b.end).total_seconds() / 86400,
             "age_days_to": (pv.as_of - b.start).total_seconds() / 86400}
            for b in pv.histogram]
    return pd.DataFrame(rows, columns=["start", "end", "count", "age_days_from", "age_days_to"])


def counts_frame(counts: dict[str, int]) -> pd.DataFrame:
    """Rows per table."""
    return pd.DataFrame({"table": list(counts), "rows": list(counts.values())})


def age_histogram(pv: Preview) -> alt.Chart:
    """Bars of candidates per age bin (days before the preview), with tooltips."""
    frame = histogram_frame(pv)
    chart: alt.Chart = (
        alt.Chart(frame, title=f"{pv.entity}: {pv.candidates:,} candidates by age")
        .mark_bar()
        .encode(
            x=alt.X("age_days_from:Q", title="age (days)", scale=alt.Scale(reverse=True)),
            x2="age_days_to:Q",
            y=alt.Y("count:Q", title="candidates"),
            y2=alt.datum(0),  # ranged in x, so anchor y too: bars from zero, not ticks
            tooltip=[
                alt.Tooltip("start:T", title="from", format="%Y-%m-%d %H:%M"),
                alt.Tooltip("end:T", title="to", format="%Y-%m-%d %H:%M"),
                alt.Tooltip("count:Q", title="candidates", format=","),
                alt.Tooltip("age_days_to:Q", title="oldest (days)", format=".1f"),
            ],
        )
    )
    return chart
