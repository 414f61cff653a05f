"""Issue 12, case 13: the age chart tells the truth. Read from the Vega-Lite spec and the data the
page sends to the browser: every terminal row once, in its class (the next capped prune, later
candidates, blocked by reason, not old enough), no candidate bar past the cutoff, the cutoff as a
rule, and an x domain that does not move after a prune."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
from sqlalchemy.ext.asyncio import AsyncEngine
from streamlit.testing.v1 import AppTest

from console.charts import LATER, NEXT, YOUNG, blocked_label
from console.state import Keys
from core import registry, sweep
from core.preview import preview
from tests.console.test_apptest import confirm, console, no_exceptions, open_prune_dialog
from tests.factories import add_session


def chart(at: AppTest) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """The chart's Vega-Lite spec and its datasets, as the browser gets them."""
    found = at.get("vega_lite_chart")
    assert len(found) == 1, "one picture per entity"
    proto = found[0].proto
    data = {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pandas()
            for d in proto.datasets}
    return json.loads(proto.spec), data


def layers(spec: dict[str, Any], data: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """mark type -> (layer spec, its data)."""
    return {layer["mark"]["type"]: (layer, data[layer["data"]["name"]])
            for layer in spec["layer"]}


def ms(t: datetime) -> float:
    return t.timestamp() * 1000


async def seed(db: AsyncEngine) -> dict[str, list[Any]]:
    made: dict[str, list[Any]] = {"old": [], "young": []}
    for age in (300, 290, 280, 200, 190, 150, 120, 100):
        made["old"].append(await add_session(db, age_days=age))
    for age in (60, 30, 5):
        made["young"].append(await add_session(db, age_days=age))
    await add_session(db, age_days=250, routed=True)  # blocked by a routing
    await add_session(db, age_days=180, kernel_status="RUNNING")  # blocked: a live kernel
    await add_session(db, status="RUNNING", age_days=None)  # live: not terminal, not drawn
    return made


async def test_classes_cutoff_rule_and_tooltips(db: AsyncEngine, console_env: Any) -> None:
    await seed(db)
    at = console()
    at.number_input(key=Keys.LIMIT).set_value(3).run()
    no_exceptions(at)
    cutoff = at.session_state[Keys.ANCHOR] - timedelta(days=90)
    pv = await preview(db, sweep(registry.get("sessions"), before=cutoff, limit=3))
    spec, data = chart(at)
    by_mark = layers(spec, data)
    bars_spec, bars = by_mark["bar"]
    rule_spec, rule = by_mark["rule"]

    totals = bars.groupby("class")["rows"].sum().to_dict()
    routing = "still has a routing (ON DELETE RESTRICT)"
    kernel = "has a kernel that is not terminated"
    assert totals == {NEXT: 3, LATER: 5, blocked_label(routing): 1, blocked_label(kernel): 1,
                      YOUNG: 3}, totals
    assert totals[NEXT] + totals[LATER] == pv.candidates == 8
    assert (totals[NEXT], pv.blocked, pv.young) == (pv.would_delete, 2, 3)

    # the cutoff is a rule at the cutoff, and no bin of candidates reaches past it
    assert pd.Timestamp(rule["cutoff"][0]) == pd.Timestamp(cutoff)
    assert rule_spec["encoding"]["x"]["field"] == "cutoff"
    old = bars[bars["class"].isin([NEXT, LATER, blocked_label(routing), blocked_label(kernel)])]
    assert (old["end"] <= pd.Timestamp(cutoff)).all(), "a candidate bar reaches past the cutoff"
    assert (bars[bars["class"] == YOUNG]["start"] >= pd.Timestamp(cutoff)).all()
    # the next prune takes the oldest: every "next" bin ends before any "later" bin starts
    assert bars[bars["class"] == NEXT]["end"].max() <= bars[bars["class"] == LATER]["start"].min()

    colors = bars_spec["encoding"]["color"]["scale"]["domain"]
    assert colors[:2] == [NEXT, LATER] and colors[-1] == YOUNG
    tips = [t["title"] for t in bars_spec["encoding"]["tooltip"]]
    assert {"class", "rows", "from", "to", "next prune", "later", "blocked",
            "not old enough", "blocked by"} <= set(tips)
    # stacked without overlap: each piece starts where the one below it ends
    for _, pieces in bars.groupby("start"):
        pieces = pieces.sort_values("order")
        assert list(pieces["y0"])[1:] == list(pieces["y1"])[:-1]


async def test_the_x_domain_stays_after_a_prune(db: AsyncEngine, console_env: Any) -> None:
    made = await seed(db)
    at = console()
    domain = chart(at)[0]["layer"][0]["encoding"]["x"]["scale"]["domain"]
    now = at.session_state[Keys.ANCHOR]
    assert domain[0] <= ms(now - timedelta(days=299)), "from the oldest row"
    assert ms(now) <= domain[1] <= ms(now + timedelta(minutes=5)), "to now"

    open_prune_dialog(at, 4)  # the four oldest go, so the oldest row is now much younger
    confirm(at)
    no_exceptions(at)
    assert len(made["old"]) == 8
    spec, data = chart(at)
    assert spec["layer"][0]["encoding"]["x"]["scale"]["domain"][0] == domain[0], (
        "the axis does not shift after a prune: before and after compare")
    bars = layers(spec, data)["bar"][1]
    assert bars.groupby("class")["rows"].sum().get(NEXT, 0) + \
        bars.groupby("class")["rows"].sum().get(LATER, 0) == 4


async def test_an_entity_with_no_terminal_row_draws_no_chart(db: AsyncEngine,
                                                              console_env: Any) -> None:
    await add_session(db, status="RUNNING", age_days=None)
    at = console()
    no_exceptions(at)
    assert not at.get("vega_lite_chart")
    assert any("Nothing to prune" in i.value for i in at.info)
