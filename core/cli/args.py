"""The values an operator types on the `pruner` command line: durations, times, counts, id
files, and the one validated sweep request built from them."""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NoReturn

import isodate

from core import errors
from core.repository.pruner import Pruner, SweepRequest, sweep
from core.settings import Settings

# --older-than: a short form (a whole number and one unit) or an ISO 8601 duration. Short forms
# are rewritten into ISO 8601 and parsed by isodate like the rest, so there is one grammar.
SHORT_RE = re.compile(r"(?P<n>\d{1,6})\s*(?P<unit>[a-z]+)")
SHORT_TO_ISO = {"s": "PT{}S", "min": "PT{}M", "h": "PT{}H", "d": "P{}D", "w": "P{}W"}
CALENDAR_HINTS = {"m": "is ambiguous: write {n}min for minutes or P{n}M for calendar months",
                  "mo": "means months: write P{n}M", "month": "means months: write P{n}M",
                  "months": "means months: write P{n}M", "y": "means years: write P{n}Y",
                  "year": "means years: write P{n}Y", "years": "means years: write P{n}Y"}
DURATION_HELP = (
    "prune rows older than this: a whole number and a unit (45s, 90min, 12h, 30d, 2w) or an "
    "ISO 8601 duration (PT12H, P30D, P3M, P1Y, P1Y2M). Months and years are calendar units, "
    "counted back from now in UTC: P1M before 31 March is 28 (or 29) February at the same "
    "time of day; P1Y before 29 February is 28 February. `m` alone is refused as ambiguous: "
    "write `min` or P…M")


class UsageError(errors.InvalidArgument):
    """The command line itself is wrong (exit 2)."""


class Parser(argparse.ArgumentParser):
    """argparse, but bad usage is one line (UsageError), not usage text and exit 2."""

    def error(self, message: str) -> NoReturn:  # one clear line instead of usage + error
        raise UsageError(f"{message} (see: {self.prog} --help)")


def parse_before(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--before {text!r} is not an ISO 8601 time (e.g. 2026-01-31T00:00:00Z)") from None
    if value.tzinfo is None:
        raise UsageError(
            f"--before {text!r} has no timezone; add one, e.g. 2026-01-31T00:00:00Z or +09:00")
    return value


def parse_duration(text: str) -> timedelta | isodate.Duration:
    """`--older-than`'s value as a positive duration (see DURATION_HELP); UsageError if not."""
    raw = text.strip()
    bad = f"--older-than {text!r} must be a positive duration like 30d, 12h, 90min, 2w or P3M"
    short = SHORT_RE.fullmatch(raw.lower())
    if short:
        n, unit = int(short["n"]), short["unit"]
        if unit in CALENDAR_HINTS:
            raise UsageError(f"--older-than {text!r} {CALENDAR_HINTS[unit].format(n=n)}")
        if unit not in SHORT_TO_ISO:
            raise UsageError(bad)
        iso = SHORT_TO_ISO[unit].format(n)
    elif raw[:1] in ("P", "p"):
        iso = raw.upper()
    else:
        raise UsageError(bad)
    try:
        value = isodate.parse_duration(iso)
    except (isodate.ISO8601Error, ValueError, ArithmeticError):
        raise UsageError(bad) from None
    if isinstance(value, isodate.Duration):
        if value.years % 1 or value.months % 1:
            raise UsageError(f"--older-than {text!r}: months and years must be whole numbers "
                             "(write P1M15D, not P1.5M)")
        positive = value.years > 0 or value.months > 0 or value.tdelta > timedelta(0)
        negative = value.years < 0 or value.months < 0 or value.tdelta < timedelta(0)
    else:
        positive, negative = value > timedelta(0), value < timedelta(0)
    if not positive or negative:
        raise UsageError(bad)
    return value


def parse_older_than(text: str, now: datetime | None = None) -> datetime:
    """Now (UTC) minus `--older-than`; calendar units counted back on the calendar (isodate:
    the same day of the month, or the month's last day when it is shorter)."""
    duration = parse_duration(text)
    now = now or datetime.now(UTC)
    try:
        cutoff: datetime = now - duration
    except (OverflowError, ValueError):
        raise UsageError(f"--older-than {text!r} reaches before year 1") from None
    return cutoff


def positive_int(text: str) -> int:
    if not re.fullmatch(r"\s*\d{1,9}\s*", text) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def non_negative_int(text: str) -> int:
    if not re.fullmatch(r"\s*\d{1,3}\s*", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 0 to 999")
    return int(text)


def cutoff_of(args: argparse.Namespace) -> datetime:
    """The one cutoff of the command line: --before, --older-than, or --policy (whose value the
    command runner read from the database into `args.policy_cutoff`)."""
    given = [name for name, value in (("--before", args.before),
                                      ("--older-than", args.older_than),
                                      ("--policy", getattr(args, "policy", None))) if value]
    if len(given) > 1:
        raise UsageError(f"give one cutoff: {' or '.join(given)}, not several")
    if args.before:
        return parse_before(args.before)
    if args.older_than:
        return parse_older_than(args.older_than)
    if getattr(args, "policy", None):
        cutoff: datetime = args.policy_cutoff
        return cutoff
    raise UsageError("a cutoff is required: --before ISO8601, --older-than 30d or "
                     "--policy CATEGORY")


def request_of(args: argparse.Namespace, settings: Settings, pruner: Pruner, *,
               limit: int | None, before: datetime | None = None,
               ids: Sequence[str] | None = None) -> SweepRequest:
    """The one sweep request of this command line: its cutoff (`before`, when the command
    froze one for several pruners), `limit`, the ids (`ids`, or those of --ids-from when the
    command has it) and --no-rbac, validated once."""
    ids_from = getattr(args, "ids_from", None)
    if ids is None and ids_from:
        ids = read_ids(ids_from)
    return sweep(pruner, before=before or cutoff_of(args), limit=limit,
                 ids=ids, cascade_rbac=not args.no_rbac,
                 settings=settings.prune)


def read_ids(path: str) -> list[str]:
    """Ids one per line, or a CSV with an `id` column (as `pruner export` writes)."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise UsageError(f"--ids-from {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"--ids-from {path}: not a text file") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and "id" in next(csv.reader([lines[0]])):
        return [row["id"].strip() for row in csv.DictReader(lines) if (row.get("id") or "").strip()]
    return [line.strip() for line in lines]
