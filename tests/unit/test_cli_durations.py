"""`--older-than`: the duration grammar (issue 12, case 9). Short forms s, min, h, d, w and ISO
8601 durations; `m` is refused as ambiguous; months and years are calendar-correct."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.cli.args import UsageError, parse_older_than
from core.cli.parser import build_parser

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("text, back", [
    ("45s", timedelta(seconds=45)),
    ("90min", timedelta(minutes=90)),
    ("12h", timedelta(hours=12)),
    ("30d", timedelta(days=30)),
    ("2w", timedelta(weeks=2)),
    (" 7 d ", timedelta(days=7)),
    ("PT12H", timedelta(hours=12)),
    ("PT90M", timedelta(minutes=90)),  # M after T: minutes, as ISO 8601 says
    ("P30D", timedelta(days=30)),
    ("P2W", timedelta(weeks=2)),
    ("P1DT12H", timedelta(days=1, hours=12)),
    ("p1d", timedelta(days=1)),
])
def test_short_forms_and_iso_durations(text: str, back: timedelta) -> None:
    assert parse_older_than(text, now=NOW) == NOW - back


@pytest.mark.parametrize("text, now, cutoff", [
    # a month back from 31 March is the last day of February (28, or 29 in a leap year)
    ("P1M", NOW, datetime(2026, 2, 28, 12, 0, tzinfo=UTC)),
    ("P1M", datetime(2024, 3, 31, 12, 0, tzinfo=UTC), datetime(2024, 2, 29, 12, 0, tzinfo=UTC)),
    ("P3M", NOW, datetime(2025, 12, 31, 12, 0, tzinfo=UTC)),
    ("P1M", datetime(2026, 3, 15, 8, 30, tzinfo=UTC), datetime(2026, 2, 15, 8, 30, tzinfo=UTC)),
    ("P1Y", NOW, datetime(2025, 3, 31, 12, 0, tzinfo=UTC)),
    # a year back from 29 February is 28 February
    ("P1Y", datetime(2024, 2, 29, 0, 0, tzinfo=UTC), datetime(2023, 2, 28, 0, 0, tzinfo=UTC)),
    ("P1Y2M", NOW, datetime(2025, 1, 31, 12, 0, tzinfo=UTC)),
    ("P1M1D", NOW, datetime(2026, 2, 27, 12, 0, tzinfo=UTC)),
])
def test_months_and_years_are_calendar_correct(text: str, now: datetime,
                                                cutoff: datetime) -> None:
    assert parse_older_than(text, now=now) == cutoff


@pytest.mark.parametrize("text, says", [
    ("3m", "write 3min for minutes or P3M for calendar months"),
    ("3M", "write 3min for minutes or P3M"),
    ("3mo", "P3M"),
    ("2months", "P2M"),
    ("1y", "P1Y"),
    ("1year", "P1Y"),
    ("P1.5M", "whole numbers"),
    ("P0.5Y", "whole numbers"),
    ("0d", "positive duration"),
    ("PT0S", "positive duration"),
    ("PT", "positive duration"),
    ("-3d", "positive duration"),
    ("-P1D", "positive duration"),
    ("P", "positive duration"),
    ("3 fortnights", "positive duration"),
    ("1e3", "positive duration"),
    ("1d2h", "positive duration"),
    ("", "positive duration"),
    ("P99999Y", "before year 1"),
    ("999999w", "before year 1"),
])
def test_refused_with_a_message_that_says_what_to_write(text: str, says: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_older_than(text, now=NOW)
    assert says in str(info.value) and "\n" not in str(info.value)


def test_the_help_names_the_units_and_the_calendar_rule() -> None:
    parser = build_parser()
    prune = parser._subparsers._group_actions[0].choices["prune"]  # type: ignore[union-attr]
    text = " ".join(prune.format_help().split())
    for part in ("45s", "90min", "12h", "30d", "2w", "P3M", "P1Y", "PT12H",
                 "P1M before 31 March is 28 (or 29) February", "`m` alone is refused"):
        assert part in text, part
