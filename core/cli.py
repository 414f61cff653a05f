"""`pruner`: the command line for scripts, cron and operators.

Exit codes: 0 success, 1 the operation failed (nothing was deleted by the failed step),
2 bad usage. Errors are one line on stderr, never a traceback (set PRUNER_DEBUG=1 for one).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import importlib
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, TextIO

from core import errors, export, journal, operations, registry
from core.db import create_engine
from core.repository.pruner import DEFAULT_LIMIT, Pruner

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DURATION_RE = re.compile(r"^\s*(\d{1,6})\s*([smhdw])\s*$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class UsageError(errors.InvalidArgument):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one clear line instead of usage + error
        raise UsageError(f"{message} (see: {self.prog} --help)")


# ------------------------------------------------------------------------------ argument types
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


def open_csv(path: str) -> TextIO:
    try:
        return open(path, "w", newline="")  # noqa: SIM115 - the caller closes it
    except OSError as exc:
        raise UsageError(f"--csv {path}: {exc.strerror or exc}") from None


# ------------------------------------------------------------------------------ parser
def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", help="PostgreSQL URL (default: $PRUNER_DATABASE_URL)")
    common.add_argument("--json", action="store_true", help="print one JSON document")

    cutoff = argparse.ArgumentParser(add_help=False)
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


# ------------------------------------------------------------------------------ output helpers
def emit(args: argparse.Namespace, doc: dict[str, Any], text: str) -> None:
    print(json.dumps(doc, default=str) if args.json else text)


def fmt_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{t}: {n:,}" for t, n in counts.items())


def confirm(entity: str, what: str, assume_yes: bool) -> None:
    if assume_yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("refusing to delete without --yes when not on a terminal")
    print(what, file=sys.stderr)
    try:
        typed = input(f"Type the entity name ({entity}) to confirm: ")
    except EOFError:
        typed = ""
    if typed.strip() != entity:
        raise errors.Cancelled("not confirmed; nothing was deleted")


class _ProgressBar:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, p: operations.DrainProgress) -> None:
        if not self.enabled:
            return
        total = max(p.estimated_total, 1)
        filled = int(30 * min(p.done / total, 1))
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {p.done:,} / {total:,} "
                         f"(batch {p.batches})")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


# ------------------------------------------------------------------------------ commands
async def cmd_list(args: argparse.Namespace, _db: Any) -> int:
    pruners = registry.all_pruners()
    doc = {"pruners": [{"name": p.name, "table": p.table.name, "timestamp": p.timestamp,
                        "tables": p.tables, "rbac_entity_type": p.rbac_entity_type,
                        "description": p.description} for p in pruners]}
    emit(args, doc, "\n".join(f"{p.name:<14} {p.description}" for p in pruners))
    return EXIT_OK


async def cmd_preview(args: argparse.Namespace, db: Any) -> int:
    from core.preview import preview

    pruner = registry.get(args.entity)
    pv = await preview(db, pruner, before=cutoff_of(args), limit=args.limit,
                       cascade_rbac=not args.no_rbac, sample_size=args.sample)
    text = [f"{pv.entity}: {pv.candidates:,} candidates before {pv.cutoff.isoformat()}"
            f" ({pv.blocked:,} blocked)",
            f"oldest {pv.oldest}, newest {pv.newest}",
            f"a prune with --limit {pv.limit:,} deletes: {fmt_counts(pv.cascade)}"]
    text += [f"  blocked: {reason}: {n:,}" for reason, n in pv.blocked_by.items() if n]
    text += [f"  {row[pruner.key.name]}  {row[pruner.timestamp]}" for row in pv.sample]
    emit(args, pv.to_dict(), "\n".join(text))
    return EXIT_OK


def _prune_doc(r: Any) -> dict[str, Any]:
    d = r.to_dict()
    keys = ("run_id", "entity", "count", "ids", "deleted", "cutoff", "skipped", "dry_run")
    return {k: d[k] for k in keys}


async def cmd_prune(args: argparse.Namespace, db: Any) -> int:
    pruner = registry.get(args.entity)
    before = cutoff_of(args)
    ids = read_ids(args.ids_from) if args.ids_from else None
    kw = dict(before=before, limit=args.limit, cascade_rbac=not args.no_rbac, ids=ids,
              operator=args.operator, reason=args.reason)
    out = open_csv(args.csv) if args.csv else None  # an unwritable path fails before any delete
    try:
        if args.dry_run:
            result = await operations.rehearse(db, pruner, **kw)
        else:
            confirm(pruner.name, await _describe(db, pruner, before, args.limit, ids, args),
                    args.yes)
            result = await operations.prune(db, pruner, archive=args.archive, **kw)
    except BaseException:
        if out is not None:
            out.close()
            os.remove(out.name)
        raise
    if out is not None:
        with out:
            out.write(export.result_csv(result))
    verb = "would delete" if result.dry_run else "deleted"
    text = (f"run {result.run_id}: {verb} {result.count:,} {pruner.name} "
            f"({fmt_counts(result.deleted)})")
    if result.skipped:
        text += f"; {len(result.skipped):,} requested ids did not qualify and were skipped"
    emit(args, _prune_doc(result), text)
    return EXIT_OK


async def _describe(db: Any, pruner: Pruner, before: datetime, limit: int | None,
                    ids: Sequence[str] | None, args: argparse.Namespace) -> str:
    if args.yes or not sys.stdin.isatty():
        return ""
    if ids is not None:
        return f"About to delete up to {len(ids):,} selected {pruner.name} rows."
    from core.preview import preview

    pv = await preview(db, pruner, before=before, limit=limit or DEFAULT_LIMIT,
                       cascade_rbac=not args.no_rbac, sample_size=0)
    return (f"About to delete {pv.would_delete:,} of {pv.candidates:,} {pruner.name} "
            f"older than {before.isoformat()}: {fmt_counts(pv.cascade)}")


async def cmd_drain(args: argparse.Namespace, db: Any) -> int:
    pruner = registry.get(args.entity)
    before = cutoff_of(args)
    estimate = await operations.estimate(db, pruner, before)
    confirm(pruner.name, f"About to drain {estimate:,} {pruner.name} older than "
            f"{before.isoformat()} in batches of {args.batch_size:,}.", args.yes)
    stop = threading.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, stop.set)  # Ctrl-C: finish this batch, then stop
    bar = _ProgressBar(sys.stderr.isatty() and not args.json)
    try:
        result = await operations.drain(
            db, pruner, before=before, batch_size=args.batch_size, max_batches=args.max_batches,
            max_seconds=args.max_seconds, pause_seconds=args.pause,
            cascade_rbac=not args.no_rbac, progress=bar, cancel=stop, ids_file=args.csv,
            operator=args.operator, reason=args.reason)
    finally:
        bar.close()
        loop.remove_signal_handler(signal.SIGINT)
    text = (f"drain {result.drain_id}: deleted {result.count:,} {pruner.name} in "
            f"{result.batches} batches ({fmt_counts(result.deleted)}); stopped: {result.stopped}")
    emit(args, result.to_dict(), text)
    if result.stopped == "failed":  # committed batches stay; say on stderr why the rest did not
        print(f"pruner: failed: {result.error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


async def cmd_history(args: argparse.Namespace, db: Any) -> int:
    runs = await journal.history(db, limit=args.limit, entity=args.entity, status=args.status)
    lines = [f"{r.id:>6} {r.finished_at:%Y-%m-%d %H:%M} {r.entity:<12} {r.kind:<9} "
             f"{r.status:<9} {r.count:>8,} {r.operator} {r.reason}" for r in runs]
    emit(args, {"runs": [r.to_dict() for r in runs]}, "\n".join(lines) or "no runs yet")
    return EXIT_OK


async def cmd_export(args: argparse.Namespace, db: Any) -> int:
    write = export.export_archive if args.archive else export.export_run
    if args.csv:
        with open_csv(args.csv) as out:
            n = await write(db, args.run_id, out)
        emit(args, {"run_id": args.run_id, "rows": n, "csv": args.csv},
             f"wrote {n:,} rows to {args.csv}")
    else:
        await write(db, args.run_id, sys.stdout)
    return EXIT_OK


async def cmd_demo(args: argparse.Namespace, db: Any) -> int:
    from core.demo.seed import seed

    counts = await seed(db, sessions=args.sessions)
    emit(args, {"seeded": counts}, f"seeded: {fmt_counts(counts)}")
    return EXIT_OK


COMMANDS = {"list": cmd_list, "preview": cmd_preview, "prune": cmd_prune, "drain": cmd_drain,
            "history": cmd_history, "export": cmd_export, "demo": cmd_demo}


async def run(args: argparse.Namespace) -> int:
    handler = COMMANDS[args.command]
    if args.command == "list":
        return await handler(args, None)
    engine = create_engine(args.database_url)
    try:
        return await handler(args, engine)
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["console"]:  # the console owns its own options
        return importlib.import_module("console.launcher").main(argv[1:])
    try:
        args = build_parser().parse_args(argv)
        return asyncio.run(run(args))
    except errors.InvalidArgument as exc:
        print(f"pruner: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except errors.Cancelled as exc:
        print(f"pruner: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except errors.PrunerError as exc:
        print(f"pruner: failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("pruner: interrupted; the open transaction was rolled back", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # never a traceback for an operator, unless asked
        if os.environ.get("PRUNER_DEBUG"):
            raise
        print(f"pruner: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
