"""Altair charts shared by the console and notebooks."""

from __future__ import annotations

import altair as alt

from core.preview import Preview


def age_histogram(pv: Preview) -> alt.Chart:
    """Bars of candidates per age bin (days before the preview), with tooltips."""
    frame = pv.histogram_frame()
    return (
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
