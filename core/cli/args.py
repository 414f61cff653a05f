"""The `pruner` command line: its parser and the argument types an operator types."""

from __future__ import annotations

import argparse
import csv
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NoReturn

from core import errors
from core.repository.pruner import Pruner, SweepRequest, sweep
from core.settings import DEFAULT_LIMIT, Settings

DURATION_RE = re.compile(r"^\s*(\d{1,6})\s*([smhdw])\s*$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class UsageError(errors.InvalidArgument):
    """The command line itself is wrong (exit 2)."""


class _Parser(argparse.ArgumentParser):
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


def parse_older_than(text: str) -> datetime:
    m = DURATION_RE.match(text)
    if not m or int(m.group(1)) == 0:
        raise UsageError(f"--older-than {text!r} must be a positive duration like 30d, 12h, 2w")
    try:
        return datetime.now(UTC) - timedelta(**{UNITS[m.group(2)]: int(m.group(1))})
    except OverflowError:
        raise UsageError(f"--older-than {text!r} reaches before year 1") from None


def positive_int(text: str) -> int:
    if not re.fullmatch(r"\s*\d{1,9}\s*", text) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def cutoff_of(args: argparse.Namespace) -> datetime:
    if args.before and args.older_than:
        raise UsageError("give --before or --older-than, not both")
    if args.before:
        return parse_before(args.before)
    if args.older_than:
        return parse_older_than(args.older_than)
    raise UsageError("a cutoff is required: --before ISO8601 or --older-than 30d")


def request_of(args: argparse.Namespace, settings: Settings, pruner: Pruner, *,
               limit: int | None) -> SweepRequest:
    """The one sweep request of this command line: its cutoff, `limit`, the ids of --ids-from
    (when the command has it) and --no-rbac, validated once."""
    ids_from = getattr(args, "ids_from", None)
    return sweep(pruner, before=cutoff_of(args), limit=limit,
                 ids=read_ids(ids_from) if ids_from else None, cascade_rbac=not args.no_rbac,
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


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--database-url", help="PostgreSQL URL (default: $PRUNER_DATABASE_URL)")
    common.add_argument("--json", action="store_true", help="print one JSON document")

    cutoff = _Parser(add_help=False)
    cutoff.add_argument("--before", help="prune rows whose timestamp is before this ISO 8601 time")
    cutoff.add_argument("--older-than", help="prune rows older than this (30d, 12h, 2w)")
    cutoff.add_argument("--no-rbac", action="store_true",
                        help="leave RBAC association rows in place")

    p = _Parser(prog="pruner", description="Safe, capped pruning of terminal-state rows.",
                parents=[common])
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sub.add_parser("list", parents=[common], help="list the registered pruners")

    pv = sub.add_parser("preview", parents=[common, cutoff], help="what a prune would delete")
    pv.add_argument("entity")
    pv.add_argument("--limit", type=positive_int, default=DEFAULT_LIMIT)
    pv.add_argument("--sample", type=int, default=10, help="oldest rows to show (default 10)")

    pr = sub.add_parser("prune", parents=[common, cutoff], help="delete one capped batch")
    pr.add_argument("entity")
    pr.add_argument("--limit", type=positive_int, default=None)
    pr.add_argument("--ids-from", metavar="FILE", help="only these ids (one per line, or CSV)")
    pr.add_argument("--reason", default="")
    pr.add_argument("--operator")
    pr.add_argument("--archive", action="store_true", help="keep the deleted rows as JSON")
    pr.add_argument("--dry-run", action="store_true", help="rehearse: run and roll back")
    pr.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    pr.add_argument("--csv", metavar="FILE", help="write the pruned ids as CSV")

    dr = sub.add_parser("drain", parents=[common, cutoff], help="prune a backlog in batches")
    dr.add_argument("entity")
    dr.add_argument("--batch-size", type=positive_int, default=DEFAULT_LIMIT)
    dr.add_argument("--max-batches", type=positive_int)
    dr.add_argument("--max-seconds", type=positive_int)
    dr.add_argument("--pause", type=float, default=0.0, help="seconds between batches")
    dr.add_argument("--reason", default="")
    dr.add_argument("--operator")
    dr.add_argument("--yes", action="store_true")
    dr.add_argument("--csv", metavar="FILE", help="stream the pruned ids to this CSV file")

    hi = sub.add_parser("history", parents=[common], help="recent runs from the journal")
    hi.add_argument("--limit", type=positive_int, default=20)
    hi.add_argument("--entity")
    hi.add_argument("--status", choices=["succeeded", "failed", "rehearsed"])

    ex = sub.add_parser("export", parents=[common], help="a run's ids (or archived rows) as CSV")
    ex.add_argument("run_id", type=positive_int)
    ex.add_argument("--csv", metavar="FILE", help="write here instead of stdout")
    ex.add_argument("--archive", action="store_true", help="export the archived rows instead")

    demo = sub.add_parser("demo", parents=[common], help="the demo database")
    demo_sub = demo.add_subparsers(dest="demo_command", required=True, parser_class=_Parser)
    seed = demo_sub.add_parser("seed", parents=[common],
                               help="create the reference schema and fill it with demo data")
    seed.add_argument("--sessions", type=positive_int, default=20_000)

    sub.add_parser("console", add_help=False, help="open the operator console (Streamlit)")
    return p
