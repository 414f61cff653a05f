"""The console's Candidates page under Streamlit AppTest, against the preview call alone."""

from __future__ import annotations

from pathlib import Path

from bench.measure import Row
from bench.suites import Context

CONSOLE = Path(__file__).resolve().parent.parent / "console"


async def run(ctx: Context, template: str) -> list[Row]:
    # TODO(issue 5): time the Candidates page once console/ ships one AppTest can drive.
    return [Row("Console", "Candidates page via AppTest (1M candidates)", None, None, 1.3,
                note="TODO: console/ had no Candidates page when this ran")]
