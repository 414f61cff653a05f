"""The `pruner` subcommands: each takes the parsed arguments and a database, prints its result
(text, or one JSON document with --json) and returns an exit code."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from sqlalchemy.ext.asyncio import AsyncEngine

from core import errors, export, journal, operations, registry
from core.cli.args import UsageError, request_of
from core.db import Database
from core.drain import DrainProgress, drain, estimate
from core.preview import preview
from core.repository.pruner import SweepRequest
from core.settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def open_csv(path: str) -> TextIO:
    try:
        return open(path, "w", newline="")  # noqa: SIM115 - the caller closes it
    except OSError as exc:
        raise UsageError(f"--csv {path}: {exc.strerror or exc}") from None


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

    def __call__(self, p: DrainProgress) -> None:
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
async def cmd_list(args: argparse.Namespace, settings: Settings, db: Database | None) -> int:
    pruners = registry.all_pruners()
    doc = {"pruners": [{"name": p.name, "table": p.table.name, "timestamp": p.timestamp,
                        "key": [c.name for c in p.key], "description": p.description}
                       for p in pruners]}
    emit(args, doc, "\n".join(f"{p.name:<14} {p.description}" for p in pruners))
    return EXIT_OK


async def cmd_preview(args: argparse.Namespace, settings: Settings, db: Database | None) -> int:
    assert db is not None
    pruner = await registry.resolve(db, args.entity)
    pv = await preview(db, request_of(args, settings, pruner, limit=args.limit),
                       sample_size=args.sample, settings=settings.prune)
    text = [f"{pv.entity}: {pv.candidates:,} candidates before {pv.cutoff.isoformat()}"
            f" ({pv.blocked:,} blocked)",
            f"oldest {pv.oldest}, newest {pv.newest}",
            f"a prune with --limit {pv.limit:,} deletes: {fmt_counts(pv.cascade)}"]
    text += [f"  blocked: {reason}: {n:,}" for reason, n in pv.blocked_by.items() if n]
    text += [f"  {', '.join(str(row[c.name]) for c in pruner.key)}  {row[pruner.timestamp]}"
             for row in pv.sample]
    emit(args, pv.to_dict(), "\n".join(text))
    return EXIT_OK


def _prune_doc(r: Any) -> dict[str, Any]:
    d = r.to_dict()
    keys = ("run_id", "entity", "count", "ids", "deleted", "cutoff", "skipped", "dry_run")
    return {k: d[k] for k in keys}


async def cmd_prune(args: argparse.Namespace, settings: Settings, db: Database | None) -> int:
    assert db is not None
    pruner = await registry.resolve(db, args.entity)
    req = request_of(args, settings, pruner, limit=args.limit)
    operator = args.operator or settings.operator
    out = open_csv(args.csv) if args.csv else None  # an unwritable path fails before any delete
    try:
        if args.dry_run:
            result = await operations.rehearse(db, req, operator=operator, reason=args.reason,
                                               settings=settings.prune)
        else:
            confirm(pruner.name, await _describe(db, req, args, settings), args.yes)
            result = await operations.prune(db, req, archive=args.archive, operator=operator,
                                            reason=args.reason, settings=settings.prune)
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


async def _describe(db: Database, req: SweepRequest, args: argparse.Namespace,
                    settings: Settings) -> str:
    if args.yes or not sys.stdin.isatty():
        return ""
    name = req.pruner.name
    if req.ids is not None:
        return f"About to delete up to {len(req.ids):,} selected {name} rows."
    pv = await preview(db, req, sample_size=0, settings=settings.prune)
    return (f"About to delete {pv.would_delete:,} of {pv.candidates:,} {name} "
            f"older than {req.before.isoformat()}: {fmt_counts(pv.cascade)}")


async def cmd_drain(args: argparse.Namespace, settings: Settings, db: Database | None) -> int:
    assert db is not None
    pruner = await registry.resolve(db, args.entity)
    req = request_of(args, settings, pruner, limit=args.batch_size)
    backlog = await estimate(db, req)
    confirm(pruner.name, f"About to drain {backlog:,} {pruner.name} older than "
            f"{req.before.isoformat()} in batches of {req.limit:,}.", args.yes)
    stop = threading.Event()
    loop = asyncio.get_running_loop()
    try:  # Ctrl-C: finish this batch, then stop (only the main thread can take signals)
        loop.add_signal_handler(signal.SIGINT, stop.set)
    except (RuntimeError, ValueError):
        pass
    bar = _ProgressBar(sys.stderr.isatty() and not args.json)
    try:
        result = await drain(
            db, req, max_batches=args.max_batches, max_seconds=args.max_seconds,
            pause_seconds=args.pause, progress=bar, cancel=stop, ids_file=args.csv,
            operator=args.operator or settings.operator, reason=args.reason,
            settings=settings.prune)
    finally:
        bar.close()
        with contextlib.suppress(RuntimeError, ValueError):
            loop.remove_signal_handler(signal.SIGINT)
    text = (f"drain {result.drain_id}: deleted {result.count:,} {pruner.name} in "
            f"{result.batches} batches ({fmt_counts(result.deleted)}); stopped: {result.stopped}")
    emit(args, result.to_dict(), text)
    if result.stopped == "failed":  # committed batches stay; say on stderr why the rest did not
        print(f"pruner: failed: {result.error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


async def cmd_history(args: argparse.Namespace, settings: Settings, db: Database | None) -> int:
    assert db is not None
    runs = await journal.history(db, limit=args.limit, entity=args.entity, status=args.status)
    lines = [f"{r.id:>6} {r.finished_at:%Y-%m-%d %H:%M} {r.entity:<12} {r.kind:<9} "
             f"{r.status:<9} {r.count:>8,} {r.operator} {r.reason}" for r in runs]
    emit(args, {"runs": [r.to_dict() for r in runs]}, "\n".join(lines) or "no runs yet")
    return EXIT_OK


async def cmd_export(args: argparse.Namespace, settings: Settings, db: Database | None) -> int:
    assert db is not None
    write = export.export_archive if args.archive else export.export_run
    if args.csv:
        with open_csv(args.csv) as out:
            n = await write(db, args.run_id, out)
        emit(args, {"run_id": args.run_id, "rows": n, "csv": args.csv},
             f"wrote {n:,} rows to {args.csv}")
    else:
        await write(db, args.run_id, sys.stdout)
    return EXIT_OK


async def cmd_demo(args: argparse.Namespace, settings: Settings, db: Database | None) -> int:
    from core.demo.seed import seed  # dev tooling: only this command loads it

    assert isinstance(db, AsyncEngine)
    counts = await seed(db, sessions=args.sessions)
    emit(args, {"seeded": counts}, f"seeded: {fmt_counts(counts)}")
    return EXIT_OK


Command = Callable[[argparse.Namespace, Settings, Database | None], Awaitable[int]]
COMMANDS: dict[str, Command] = {
    "list": cmd_list, "preview": cmd_preview, "prune": cmd_prune, "drain": cmd_drain,
    "history": cmd_history, "export": cmd_export, "demo": cmd_demo,
}
