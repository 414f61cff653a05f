"""The `pruner` subcommands: each takes the parsed arguments and a database, prints its result
(text, or one JSON document with --json) and returns an exit code.

A step that runs after deletes were committed (writing the CSV, printing the result) runs inside
`after_commit`: if it fails, the command ends with `Committed` (exit 3), whose message names the
run and says that its deletes are committed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import UTC
from typing import IO, Any

from sqlalchemy.ext.asyncio import AsyncEngine

from core import errors, export, health, journal, operations, registry
from core.backendai.variants import model_of
from core.cli.args import UsageError, request_of
from core.cli.exits import EXIT_FAILED, EXIT_OK
from core.db import Database
from core.drain import DrainProgress, DrainResult, drain, estimate
from core.preview import preview
from core.repository.pruner import PruneResult, SweepRequest
from core.repository.pruner.plan import describe
from core.settings import Settings


class Committed(errors.PrunerError):
    """Deletes were committed (and journaled), then a later step failed (exit 3). `details`
    go into the --json error document (run ids, the result)."""

    def __init__(self, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.details = details


class Failed(errors.PrunerError):
    """The operation failed and nothing of it was deleted (exit 1); `details` go into the --json
    error document."""

    def __init__(self, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.details = details


def _why(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


@contextlib.contextmanager
def after_commit(what: str, details: dict[str, Any]) -> Iterator[None]:
    """Run the steps that follow a commit (`what` committed): any failure becomes `Committed`,
    "<what>; its deletes are committed, but <step> failed: <why>". A closed stdout stays a
    closed stdout (quiet, exit 141)."""
    try:
        yield
    except (BrokenPipeError, Committed):
        raise
    except BaseException as exc:
        step = str(exc) if isinstance(exc, errors.PrunerError) else (
            f"a later step failed: {_why(exc)}")
        raise Committed(f"{what}; its deletes are committed, but {step}", details) from exc


async def publish(out: export.CsvFile, option: str,
                  write: Callable[[IO[str]], Any]) -> Any:
    """`out.publish(write)`; a file that cannot be written is `Failed`, naming it."""
    try:
        return await out.publish(write)
    except OSError as exc:
        raise Failed(f"writing {option} {out.path} failed: {_why(exc)}", {}) from exc


# ------------------------------------------------------------------------------ output helpers
def emit(args: argparse.Namespace, doc: dict[str, Any], text: str) -> None:
    """The command's result on stdout, flushed: a stdout that cannot take it fails here, where
    `after_commit` can still say what was committed."""
    with writing_stdout():
        print(json.dumps(doc, default=str) if args.json else text, flush=True)


@contextlib.contextmanager
def writing_stdout() -> Iterator[None]:
    """Output to stdout: a full disk or a dead terminal is `Failed`, naming it; a reader that
    went away (BrokenPipeError) ends the command quietly."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise Failed(f"writing the output failed: {_why(exc)}", {}) from exc


def fmt_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{t}: {n:,}" for t, n in counts.items())


def one_line(value: Any) -> str:
    """Free text (a reason, an operator) on one table line: control characters as spaces."""
    return "".join(" " if not c.isprintable() else c for c in str(value or ""))


def table(header: Sequence[str], rows: Sequence[Sequence[Any]],
          right: Sequence[int] = ()) -> str:
    """Rows under a header, each column as wide as its widest cell (the last is not padded)."""
    cells = [[str(c) for c in header]] + [[one_line(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for r in cells:
        parts = [c.rjust(w) if i in right else c.ljust(w)
                 for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        parts[-1] = r[-1].rjust(widths[-1]) if len(header) - 1 in right else r[-1]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


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


def open_csv(path: str | None, option: str = "--csv") -> export.CsvFile | None:
    """The --csv target, checked now (before anything is deleted); written after the commit."""
    return export.CsvFile(path, option=option) if path else None


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
    emit(args, doc, table(("NAME", "TABLE", "DESCRIPTION"),
                          [(p.name, p.table.name, p.description) for p in pruners]))
    return EXIT_OK


async def cmd_check(args: argparse.Namespace, settings: Settings, db: Database | None) -> int:
    """The plan of each pruner (or one) on this database; exit 1 when one cannot run here."""
    assert db is not None
    names = [args.entity] if args.entity else registry.names()
    if args.entity:
        registry.variants(args.entity)  # an unknown name is bad usage, not "cannot run"
    # an entity the database's model does not have (26.8's invitations on 26.9, the Backend.AI
    # catalog on the modelled schema) is not part of this database: listed, not a failure
    model = None if args.entity else await model_of(db)
    absent = [n for n in names if model is not None
              and all(p.model != model for p in registry.variants(n))]
    names = [n for n in names if n not in absent]
    checks: list[dict[str, Any]] = []
    for name in names:
        try:
            plan = await health.plan_of(db, await registry.resolve(db, name))
        except (errors.DefinitionError, errors.SchemaMissing) as exc:
            checks.append({"name": name, "ok": False, "error": str(exc), "plan": []})
        else:
            checks.append({"name": name, "ok": True, "error": None, "plan": describe(plan)})
    ok = all(c["ok"] for c in checks)
    text: list[str] = []
    for c in checks:
        text += c["plan"] if c["ok"] else [f"{c['name']}: cannot run on this database: "
                                           f"{c['error']}"]
    if not ok:
        bad = [c["name"] for c in checks if not c["ok"]]
        text.append(f"{len(bad)} of {len(checks)} cannot run here: {', '.join(bad)}")
    if absent:
        text.append(f"not part of the {model} model: {', '.join(absent)}")
    emit(args, {"ok": ok, "pruners": checks, "model": model, "not_in_model": absent},
         "\n".join(text))
    return EXIT_OK if ok else EXIT_FAILED


async def cmd_preview(args: argparse.Namespace, settings: Settings, db: Database | None) -> int:
    assert db is not None
    pruner = await registry.resolve(db, args.entity)
    req = request_of(args, settings, pruner, limit=args.limit)
    pv = await preview(db, req, sample_size=args.sample, settings=settings.prune)
    selected = "" if req.ids is None else f" among {len(req.ids):,} selected ids"
    text = [f"{pv.entity}: {pv.candidates:,} candidates{selected} before "
            f"{pv.cutoff.isoformat()} ({pv.blocked:,} blocked)",
            f"oldest {pv.oldest}, newest {pv.newest}",
            f"a prune with --limit {pv.limit:,} deletes: {fmt_counts(pv.cascade)}"]
    text += [f"  blocked: {reason}: {n:,}" for reason, n in pv.blocked_by.items() if n]
    text += [f"  {', '.join(str(row[c.name]) for c in pruner.key)}  {row[pruner.timestamp]}"
             for row in pv.sample]
    doc = pv.to_dict()
    if req.ids is not None:
        doc["selected_ids"] = len(req.ids)
    emit(args, doc, "\n".join(text))
    return EXIT_OK


def _prune_doc(r: PruneResult) -> dict[str, Any]:
    d = r.to_dict()
    keys = ("run_id", "entity", "count", "ids", "deleted", "updated", "cutoff", "skipped",
            "skip_reasons", "busy", "dry_run")
    doc = {k: d[k] for k in keys}
    doc["skipped_by_reason"] = dict(Counter(r.skip_reasons.values()))
    return doc


def _skipped_text(r: PruneResult) -> str:
    if not r.skipped:
        return ""
    by_reason = Counter(r.skip_reasons.values())
    unexplained = len(r.skipped) - sum(by_reason.values())
    if unexplained > 0:
        by_reason["for no recorded reason"] += unexplained
    parts = ", ".join(f"{n:,} {reason}" for reason, n in by_reason.most_common())
    return f"; {len(r.skipped):,} requested ids were skipped ({parts})"


async def cmd_prune(args: argparse.Namespace, settings: Settings, db: Database | None) -> int:
    assert db is not None
    pruner = await registry.resolve(db, args.entity)
    req = request_of(args, settings, pruner, limit=args.limit)
    operator = args.operator or settings.operator
    with contextlib.ExitStack() as stack:
        out = open_csv(args.csv)  # an unwritable path fails before any delete
        if out is not None:
            stack.enter_context(out)
        if args.dry_run:
            result = await operations.rehearse(db, req, operator=operator, reason=args.reason,
                                               settings=settings.prune)
        else:
            confirm(pruner.name, await _describe(db, req, args, settings), args.yes)
            result = await operations.prune(db, req, archive=args.archive, operator=operator,
                                            reason=args.reason, settings=settings.prune)
        details: dict[str, Any] = {"run_ids": [result.run_id]}
        done = (contextlib.nullcontext() if result.dry_run else  # a rehearsal committed nothing
                after_commit(f"run {result.run_id} deleted {result.count:,} {pruner.name}",
                             details))
        with done:
            doc = details["result"] = _prune_doc(result)
            verb = "would delete" if result.dry_run else "deleted"
            text = (f"run {result.run_id}: {verb} {result.count:,} {pruner.name} "
                    f"({fmt_counts(result.deleted)}){_skipped_text(result)}")
            if out is not None:
                await publish(out, "--csv", lambda f: f.write(export.result_csv(result)))
                doc["csv"] = args.csv
            emit(args, doc, text)
    return EXIT_OK


async def _describe(db: Database, req: SweepRequest, args: argparse.Namespace,
                    settings: Settings) -> str:
    if args.yes or not sys.stdin.isatty():
        return ""
    name = req.pruner.name
    if req.ids is not None:
        return f"About to delete up to {min(len(req.ids), req.limit):,} selected {name} rows."
    pv = await preview(db, req, sample_size=0, settings=settings.prune)
    return (f"About to delete {pv.would_delete:,} of {pv.candidates:,} {name} "
            f"older than {req.before.isoformat()}: {fmt_counts(pv.cascade)}")


def drain_reach(backlog: int, batch_size: int, max_batches: int | None) -> int:
    """How many rows a drain can delete at most: the backlog, capped by its batches."""
    return backlog if max_batches is None else min(backlog, max_batches * batch_size)


async def cmd_drain(args: argparse.Namespace, settings: Settings, db: Database | None) -> int:
    assert db is not None
    pruner = await registry.resolve(db, args.entity)
    req = request_of(args, settings, pruner, limit=args.batch_size)
    with contextlib.ExitStack() as stack:
        out = open_csv(args.csv)
        if out is not None:
            stack.enter_context(out)
        if not args.yes and sys.stdin.isatty():
            backlog = await estimate(db, req)
            reach = drain_reach(backlog, req.limit, args.max_batches)
            bounds = f"in batches of {req.limit:,}"
            if args.max_batches:
                bounds = f"in at most {args.max_batches:,} batches of {req.limit:,}"
            if args.max_seconds:
                bounds += f", for at most {args.max_seconds:,} s"
            of = f" of the {backlog:,}" if reach < backlog else ""
            what = (f"About to drain {reach:,}{of} {pruner.name} older than "
                    f"{req.before.isoformat()} {bounds}.")
        else:
            what = ""
        confirm(pruner.name, what, args.yes)
        result = await _run_drain(db, req, args, settings)
        return await _drain_done(db, args, result, out)


async def _run_drain(db: Database, req: SweepRequest, args: argparse.Namespace,
                     settings: Settings) -> DrainResult:
    stop = threading.Event()
    loop = asyncio.get_running_loop()
    try:  # Ctrl-C: finish this batch, then stop (only the main thread can take signals)
        loop.add_signal_handler(signal.SIGINT, stop.set)
    except (RuntimeError, ValueError):
        pass
    bar = _ProgressBar(sys.stderr.isatty() and not args.json)
    try:
        return await drain(
            db, req, max_batches=args.max_batches, max_seconds=args.max_seconds,
            pause_seconds=args.pause, progress=bar, cancel=stop,
            operator=args.operator or settings.operator, reason=args.reason,
            settings=settings.prune)
    finally:
        bar.close()
        with contextlib.suppress(RuntimeError, ValueError):
            loop.remove_signal_handler(signal.SIGINT)


async def _drain_done(db: Database, args: argparse.Namespace, result: DrainResult,
                      out: export.CsvFile | None) -> int:
    """Report a drain. Committed batches (any deleted row) make every later failure exit 3; a
    failed batch stops the drain: its summary is printed (text mode), its error follows."""
    doc = result.to_dict()
    text = (f"drain {result.drain_id}: deleted {result.count:,} {result.entity} in "
            f"{result.batches} batches ({fmt_counts(result.deleted)}); stopped: {result.stopped}")
    failed = result.stopped == "failed"
    details = {"drain_id": result.drain_id, "run_ids": result.run_ids, "result": doc}
    what = (f"drain {result.drain_id} (runs {_runs(result.run_ids)}) deleted {result.count:,} "
            f"{result.entity}")
    committed = result.count > 0 or any(result.deleted.values())
    with after_commit(what, details) if committed else contextlib.nullcontext():
        if failed and not args.json:  # with --json the result is in the error document
            emit(args, doc, text)
        if failed and not committed:
            raise Failed(f"drain {result.drain_id}: {result.error}", {"result": doc})
        if out is not None:
            await publish(out, "--csv", lambda f: export.write_runs_csv(db, result.run_ids, f))
            doc["ids_file"] = args.csv
            if result.ids_file is not None:  # the drain's own spill file: the CSV replaces it
                with contextlib.suppress(FileNotFoundError):
                    os.remove(result.ids_file)
        if failed:  # the committed batches stay; the rest did not run
            raise Committed(f"{what}; those deletes are committed, but then a batch failed: "
                            f"{result.error}", details)
        emit(args, doc, text)
    return EXIT_OK


def _runs(run_ids: list[int]) -> str:
    if len(run_ids) <= 3:
        return ", ".join(map(str, run_ids))
    return f"{run_ids[0]}..{run_ids[-1]}"


async def cmd_history(args: argparse.Namespace, settings: Settings, db: Database | None) -> int:
    assert db is not None
    runs = await journal.history(db, limit=args.limit, entity=args.entity, status=args.status,
                                 drain_id=args.drain)
    doc: dict[str, Any] = {"runs": [r.to_dict() for r in runs]}
    if runs:
        rows = [(r.id, f"{r.finished_at.astimezone(UTC):%Y-%m-%d %H:%M}", r.entity, r.kind,
                 r.status, f"{r.count:,}", r.drain_id or "-", r.operator, r.reason)
                for r in runs]
        emit(args, doc, table(("RUN", "FINISHED (UTC)", "ENTITY", "KIND", "STATUS", "COUNT",
                               "DRAIN", "OPERATOR", "REASON"), rows, right=(0, 5)))
        return EXIT_OK
    if args.entity and args.entity not in registry.names():
        registry.variants(args.entity)  # UnknownEntity: no pruner and no runs by that name
    doc["message"] = await _no_runs(db, args)
    emit(args, doc, doc["message"])
    return EXIT_OK


async def _no_runs(db: Database, args: argparse.Namespace) -> str:
    """Why `history` found nothing, honestly: the journal is empty, or nothing matched."""
    if not await journal.history(db, limit=1):
        return "the journal is empty: no prune, rehearsal or drain has run on this database"
    what = f"{args.status} runs" if args.status else "runs"
    of = f" of {args.entity}" if args.entity else ""
    in_drain = f" in drain {args.drain}" if args.drain else ""
    return f"no {what}{of}{in_drain} in the journal"


async def cmd_export(args: argparse.Namespace, settings: Settings, db: Database | None) -> int:
    assert db is not None
    write: Callable[[Database, int, Any], Awaitable[int]] = (
        export.export_archive if args.archive else export.export_run)
    out = open_csv(args.csv)
    if out is None:
        with writing_stdout():
            await write(db, args.run_id, sys.stdout)
            sys.stdout.flush()
        return EXIT_OK
    with out:
        n = await publish(out, "--csv", lambda f: write(db, args.run_id, f))
    emit(args, {"run_id": args.run_id, "rows": n, "csv": args.csv},
         f"wrote {n:,} rows to {args.csv}")
    return EXIT_OK


async def cmd_demo(args: argparse.Namespace, settings: Settings, db: Database | None) -> int:
    from core.demo.seed import seed  # dev tooling: only this command loads it

    assert isinstance(db, AsyncEngine)
    counts = await seed(db, sessions=args.sessions)
    emit(args, {"seeded": counts}, f"seeded: {fmt_counts(counts)}")
    return EXIT_OK


Command = Callable[[argparse.Namespace, Settings, Database | None], Awaitable[int]]
COMMANDS: dict[str, Command] = {
    "list": cmd_list, "check": cmd_check, "preview": cmd_preview, "prune": cmd_prune,
    "drain": cmd_drain, "history": cmd_history, "export": cmd_export, "demo": cmd_demo,
}
