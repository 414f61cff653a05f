"""The `pruner` command line: its parser and the argument types an operator types."""

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
from core.cli.exits import EXIT_CODES_HELP
from core.repository.pruner import Pruner, SweepRequest, sweep
from core.settings import DEFAULT_LIMIT, Settings

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


# Options every command takes, before or after the subcommand name. Each position parses into
# its own attribute (argparse would let the subcommand's default undo a value given before it);
# `parse_args` merges them and refuses two different values.
GLOBAL_OPTIONS = ("database_url", "json")


def _global_options(level: str) -> _Parser:
    common = _Parser(add_help=False)
    common.add_argument("--database-url", dest=f"database_url@{level}", metavar="URL",
                        help="PostgreSQL URL (default: $PRUNER_DATABASE_URL)")
    common.add_argument("--json", dest=f"json@{level}", action="store_true",
                        help="print one JSON document (also on failure)")
    return common


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command line as one namespace, global options merged from every position."""
    args = build_parser().parse_args(argv)
    given = vars(args)
    urls = {v for k, v in given.items() if k.startswith("database_url@") and v is not None}
    if len(urls) > 1:
        raise UsageError("--database-url is given twice with different values")
    merged = {"database_url": urls.pop() if urls else None,
              "json": any(v for k, v in given.items() if k.startswith("json@"))}
    for key in [k for k in given if "@" in k]:
        delattr(args, key)
    for key, value in merged.items():
        setattr(args, key, value)
    return args


def build_parser() -> argparse.ArgumentParser:
    cutoff = _Parser(add_help=False)
    cutoff.add_argument("--before", help="prune rows whose timestamp is before this ISO 8601 "
                                         "time with a timezone (2026-01-31T00:00:00Z)")
    cutoff.add_argument("--older-than", metavar="DURATION", help=DURATION_HELP)
    cutoff.add_argument("--policy", metavar="CATEGORY",
                        help="the cutoff the platform's own retention sweep uses for this "
                             "category: the database's now() minus its retention_period "
                             "(Backend.AI 26.8+, table retention_policies)")
    cutoff.add_argument("--no-rbac", action="store_true",
                        help="leave RBAC association rows in place")
    ids_from = _Parser(add_help=False)
    ids_from.add_argument("--ids-from", metavar="FILE",
                          help="only these ids: one per line, or a CSV with an `id` column "
                               "(as `pruner export` writes); - reads stdin")

    p = _Parser(prog="pruner", description="Safe, capped pruning of terminal-state rows.",
                epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
                parents=[_global_options("top")])
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name: str, *parents: _Parser, help: str) -> _Parser:
        return sub.add_parser(name, parents=[_global_options(name), *parents], help=help)

    command("list", help="list the registered pruners")

    ck = command("check", help="the plan of each pruner on this database (exit 1 when one "
                               "cannot run here)")
    ck.add_argument("entity", nargs="?", help="only this pruner")

    pv = command("preview", cutoff, ids_from, help="what a prune would delete")
    pv.add_argument("entity")
    pv.add_argument("--limit", type=positive_int, default=None,
                    help=f"the prune to preview takes at most this many (default "
                         f"{DEFAULT_LIMIT:,}, or the number of --ids-from ids)")
    pv.add_argument("--sample", type=int, default=10, help="oldest rows to show (default 10)")

    pr = command("prune", cutoff, ids_from, help="delete one capped batch")
    pr.add_argument("entity")
    pr.add_argument("--limit", type=positive_int, default=None)
    pr.add_argument("--reason", default="")
    pr.add_argument("--operator")
    pr.add_argument("--archive", action="store_true", help="keep the deleted rows as JSON")
    pr.add_argument("--dry-run", action="store_true", help="rehearse: run and roll back")
    pr.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    pr.add_argument("--csv", metavar="FILE",
                    help="write the pruned ids as CSV (written once the prune committed)")
    pr.add_argument("--retries", type=non_negative_int, default=3,
                    help="tries again after a transient failure (a deadlock, a lock timeout, a "
                         "dropped connection), each journaled (default 3; 0: never)")

    rs = command("restore", help="put back what an archived run (prune --archive) deleted")
    rs.add_argument("run_id", type=positive_int)
    rs.add_argument("--reason", default="")
    rs.add_argument("--operator")
    rs.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    dr = command("drain", cutoff, help="prune backlogs in batches: one pruner, several, or all "
                                        "(children's own pruners before their parents')")
    dr.add_argument("entities", nargs="*", metavar="ENTITY")
    dr.add_argument("--all", action="store_true",
                    help="every registered pruner that can run on this database")
    dr.add_argument("--category", metavar="CATEGORY",
                    help="the pruners covering one of the platform's retention categories "
                         "(see: pruner list)")
    dr.add_argument("--batch-size", type=positive_int, default=DEFAULT_LIMIT)
    dr.add_argument("--max-batches", type=positive_int, help="at most this many batches in all")
    dr.add_argument("--max-seconds", type=positive_int,
                    help="start no batch after this many seconds (in all)")
    dr.add_argument("--retries", type=non_negative_int, default=3,
                    help="tries a batch again after a transient failure (default 3; 0: never)")
    dr.add_argument("--pause", type=float, default=0.0, help="seconds between batches")
    dr.add_argument("--reason", default="")
    dr.add_argument("--operator")
    dr.add_argument("--yes", action="store_true")
    dr.add_argument("--csv", metavar="FILE",
                    help="write the pruned ids as CSV (from the journal, once the drain ended)")

    ds = command("drains", help="running and recent drains, with progress and heartbeat")
    ds.add_argument("--running", action="store_true", help="only drains still running")
    ds.add_argument("--entity")
    ds.add_argument("--limit", type=positive_int, default=20)

    st = command("stop", help="ask a running drain to stop after its current batch")
    st.add_argument("drain_id", metavar="DRAIN_ID", help="the drain's id (or its unique start)")

    pk = command("parked", cutoff, help="rows drains set aside, with the reason; --retry "
                                        "prunes them again")
    pk.add_argument("entity", nargs="?")
    pk.add_argument("--retry", action="store_true",
                    help="prune this entity's parked rows again (each must still qualify; "
                         "the cutoff defaults to now)")
    pk.add_argument("--in-chunks", type=positive_int, metavar="ROWS",
                    help="with --retry: delete each parked row's children in chunks of ROWS, "
                         "each chunk its own transaction, the row itself last (NOT atomic: "
                         "for a row too big for one statement)")
    pk.add_argument("--limit", type=positive_int, default=100)
    pk.add_argument("--retries", type=non_negative_int, default=3,
                    help="with --retry: tries again after a transient failure (default 3)")
    pk.add_argument("--reason", default="")
    pk.add_argument("--operator")
    pk.add_argument("--yes", action="store_true")

    hi = command("history", help="recent runs from the journal")
    hi.add_argument("--limit", type=positive_int, default=20)
    hi.add_argument("--entity")
    hi.add_argument("--status", choices=["succeeded", "failed", "rehearsed"])
    hi.add_argument("--drain", metavar="DRAIN_ID", help="only the batches of this drain")

    ex = command("export", help="a run's ids (or archived rows) as CSV")
    ex.add_argument("run_id", type=positive_int)
    ex.add_argument("--csv", metavar="FILE", help="write here instead of stdout")
    ex.add_argument("--archive", action="store_true", help="export the archived rows instead")

    demo = command("demo", help="the demo database")
    demo_sub = demo.add_subparsers(dest="demo_command", required=True, parser_class=_Parser)
    seed = demo_sub.add_parser("seed", parents=[_global_options("demo seed")],
                               help="create the reference schema and fill it with demo data")
    seed.add_argument("--sessions", type=positive_int, default=20_000)

    sub.add_parser("console", add_help=False, help="open the operator console (Streamlit); "
                                                   "its options follow it (see: pruner console "
                                                   "--help)")
    return p


def console_argv(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]] | None:
    """For `pruner [global options] console …`: the global options and the console's own
    arguments (everything after `console`, which argparse cannot pass through whole); None for
    any other command."""
    found = argparse.Namespace(json=False, database_url=None)
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--json":
            found.json = True
        elif arg == "--database-url" and i + 1 < len(argv):
            found.database_url = argv[i + 1]
            i += 1
        elif arg.startswith("--database-url="):
            found.database_url = arg.partition("=")[2]
        else:
            break
        i += 1
    if argv[i:i + 1] != ["console"]:
        return None
    return found, list(argv[i + 1:])
