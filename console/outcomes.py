"""What a rehearsal or prune did, shown on the page that ran it until dismissed."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from console.actions import Outcome
from console.widgets import counts_table, fmt_ts, metric_row


def show_outcome(outcome: Outcome, key: str) -> None:
    """A rehearsal's or prune's result, kept in session state under `key` until dismissed."""
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
        cols = metric_row(3)
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
        st.button("Dismiss", on_click=lambda: st.session_state.pop(key, None),
                  type="tertiary", key="outcome.dismiss")
