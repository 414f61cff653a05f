"""The `pruner` subcommands for backlogs: drain (one pruner, several, or --all, in one process),
drains (what runs and what ran), stop (ask a drain to stop, from anywhere) and parked (rows a
drain set aside; --retry prunes them again).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from core import errors, export, journal, registry
from core.backendai.retention import CATEGORIES
from core.backlog import drain_many, order_for_drain
from core.cli.args import UsageError, cutoff_of, request_of
from core.cli.exits import EXIT_OK
from core.cli.output import (
    Committed,
    Failed,
    after_commit,
    confirm,
    emit,
    fmt_counts,
    open_csv,
    publish,
    table,
)
from core.cli.pruning import retry_of
from core.db import Database
from core.drain import DrainProgress, DrainResult, estimate
from core.entities import RETENTION
from core.repository.pruner import SweepRequest
from core.settings import Settings


def drain_reach(backlog: int, batch_size: int, max_batches: int | None) -> int:
    """How many rows a drain can delete at most: the backlog, capped by its batches."""
    return backlog if max_batches is None else min(backlog, max_batches * batch_size)


class _ProgressBar:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, p: DrainProgress) -> None:
        if not self.enabled:
            return
        total = max(p.estimated_total, 1)
        filled = int(30 * min(p.done / total, 1))
        sys.stderr.write(f"\r{p.entity} [{'#' * filled}{'.' * (30 - filled)}] "
                         f"{p.done:,} / {total:,} (batch {p.batches})")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def in_category(category: str) -> list[str]:
    """The registered pruners covering a retention category of the platform."""
    if category not in CATEGORIES:
        raise UsageError(f"unknown retention category {category!r}; known: "
                         f"{', '.join(CATEGORIES)}")
    names = [n for n in registry.names() if RETENTION.get(n) == category]
    if not names:
        raise UsageError(f"no registered pruner covers the {category} category")
    return names


async def _requests(db: Database, args: argparse.Namespace, settings: Settings,
                    ) -> tuple[list[SweepRequest], list[dict[str, str]]]:
    """The drain's requests, in drain order, under one cutoff; with --all, the pruners that
    cannot run on this database are left out (and named)."""
    chosen = [o for o, v in (("ENTITY", args.entities), ("--all", args.all),
                             ("--category", args.category)) if v]
    if len(chosen) != 1:
        raise UsageError("name the pruners to drain, or give --all or --category (one of them)")
    names = (registry.names() if args.all else
             in_category(args.category) if args.category else
             list(dict.fromkeys(args.entities)))
    pruners, skipped = [], []
    for name in names:
        try:
            pruners.append(await registry.resolve(db, name))
        except (errors.DefinitionError, errors.SchemaMissing) as exc:
            if args.entities:
                raise
            skipped.append({"name": name, "error": str(exc)})
    before = cutoff_of(args)  # frozen once for every pruner of the run
    return ([request_of(args, settings, p, limit=args.batch_size, before=before)
             for p in await order_for_drain(db, pruners)], skipped)


async def _prompt(db: Database, reqs: list[SweepRequest], args: argparse.Namespace) -> str:
    if args.yes or not sys.stdin.isatty():
        return ""
    bounds = f"in batches of {args.batch_size:,}"
    if args.max_batches:
        bounds = f"in at most {args.max_batches:,} batches of {args.batch_size:,}" + (
            " in all" if len(reqs) > 1 else "")
    if args.max_seconds:
        bounds += f", for at most {args.max_seconds:,} s"
    reach = []
    for req in reqs:
        backlog = await estimate(db, req)
        most = drain_reach(backlog, req.limit, args.max_batches)
        reach.append((req.pruner.name, f"{most:,}" + (f" of the {backlog:,}"
                                                       if most < backlog else "")))
    cutoff = reqs[0].before.isoformat()
    if len(reqs) == 1:
        return f"About to drain {reach[0][1]} {reach[0][0]} older than {cutoff} {bounds}."
    return "\n".join([f"About to drain, older than {cutoff}, {bounds}, in this order:",
                      *(f"  {name}: up to {n}" for name, n in reach)])


@contextlib.contextmanager
def _stop_on_interrupt() -> Iterator[threading.Event]:
    """Ctrl-C: finish the current batch, then stop (only the main thread can take signals)."""
    stop = threading.Event()
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, stop.set)
    except (RuntimeError, ValueError):
        pass
    try:
        yield stop
    finally:
        with contextlib.suppress(RuntimeError, ValueError):
            loop.remove_signal_handler(signal.SIGINT)


async def cmd_drain(args: argparse.Namespace, settings: Settings, db: Database | None) -> int:
    assert db is not None
    reqs, skipped = await _requests(db, args, settings)
    if not reqs:
        raise Failed("none of the pruners can run on this database: "
                     + "; ".join(f"{s['name']}: {s['error']}" for s in skipped), {})
    with contextlib.ExitStack() as stack:
        out = open_csv(args.csv)
        if out is not None:
            stack.enter_context(out)
        confirm(reqs[0].pruner.name if len(reqs) == 1 else "drain",
                await _prompt(db, reqs, args), args.yes)
        bar = _ProgressBar(sys.stderr.isatty() and not args.json)
        with _stop_on_interrupt() as stop:
            try:
                results = await drain_many(
                    db, reqs, max_batches=args.max_batches, max_seconds=args.max_seconds,
                    pause_seconds=args.pause, progress=bar, cancel=stop,
                    operator=args.operator or settings.operator, reason=args.reason,
                    settings=settings.prune, retry=retry_of(args))
            finally:
                bar.close()
        not_started = [r.pruner.name for r in reqs[len(results):]]
        return await _report(db, args, results, not_started, skipped, out)


def _line(r: DrainResult) -> str:
    extra = ""
    if r.busy:
        extra += f"; busy: {r.busy:,} (held elsewhere, left for the next run)"
    if r.parked:
        extra += f"; parked: {len(r.parked):,} (see: pruner parked {r.entity})"
    return (f"drain {r.drain_id}: deleted {r.count:,} {r.entity} in {r.batches} batches "
            f"({fmt_counts(r.deleted)}){extra}; stopped: {r.stopped}")


def _document(results: list[DrainResult], not_started: list[str],
              skipped: list[dict[str, str]]) -> dict[str, Any]:
    if len(results) == 1 and not not_started and not skipped:
        return results[0].to_dict()  # one pruner: the drain's own document
    deleted: dict[str, int] = {}
    for r in results:
        for t, n in r.deleted.items():
            deleted[t] = deleted.get(t, 0) + n
    return {"drains": [r.to_dict() for r in results], "count": sum(r.count for r in results),
            "deleted": deleted, "not_started": not_started, "skipped": skipped,
            "stopped": results[-1].stopped}


async def _report(db: Database, args: argparse.Namespace, results: list[DrainResult],
                  not_started: list[str], skipped: list[dict[str, str]],
                  out: export.CsvFile | None) -> int:
    """Report the run. Committed batches (any deleted row) make every later failure exit 3; a
    failed batch stops the run: its summary is printed (text mode), its error follows."""
    doc = _document(results, not_started, skipped)
    lines = [_line(r) for r in results]
    if not_started:
        lines.append(f"not started: {', '.join(not_started)} "
                     f"(the run ended with {results[-1].entity}: {results[-1].stopped})")
    lines += [f"left out: {s['name']}: cannot run on this database: {s['error']}"
              for s in skipped]
    text = "\n".join(lines)
    last = results[-1]
    failed = last.stopped == "failed"
    run_ids = [i for r in results for i in r.run_ids]
    ids = ", ".join(r.drain_id for r in results)
    details = {"drain_ids": [r.drain_id for r in results], "run_ids": run_ids, "result": doc}
    if len(results) == 1:
        details["drain_id"] = last.drain_id
    what = (f"drain {ids} (runs {_runs(run_ids)}) deleted "
            + ", ".join(f"{r.count:,} {r.entity}" for r in results))
    committed = any(r.count > 0 or any(r.deleted.values()) for r in results)
    with after_commit(what, details) if committed else contextlib.nullcontext():
        if failed and not args.json:  # with --json the result is in the error document
            emit(args, doc, text)
        if failed and not committed:
            raise Failed(f"drain {last.drain_id}: {last.error}", {"result": doc})
        if out is not None:
            await publish(out, "--csv", lambda f: export.write_runs_csv(db, run_ids, f))
            doc["ids_file"] = args.csv
            for r in results:  # the drain's own spill file: the CSV replaces it
                if r.ids_file is not None:
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(r.ids_file)
        if failed:  # the committed batches stay; the rest did not run
            raise Committed(f"{what}; those deletes are committed, but then a batch of "
                            f"{last.entity} failed: {last.error}", details)
        emit(args, doc, text)
    return EXIT_OK


def _runs(run_ids: list[int]) -> str:
    if not run_ids:
        return "none"
    if len(run_ids) <= 3:
        return ", ".join(map(str, run_ids))
    return f"{run_ids[0]}..{run_ids[-1]}"


def _age(at: datetime, now: datetime) -> str:
    seconds = int((now - at).total_seconds())
    return f"{seconds}s ago" if seconds < 120 else f"{seconds // 60}min ago"


async def cmd_drains(args: argparse.Namespace, settings: Settings, db: Database | None) -> int:
    """The newest drains: running ones with their progress and heartbeat, then ended ones."""
    assert db is not None
    found = await journal.drains.listing(db, running=True if args.running else None,
                                         entity=args.entity, limit=args.limit)
    now = datetime.now(UTC)
    doc = {"drains": [d.to_dict() | {"abandoned": d.abandoned(now)} for d in found]}
    if not found:
        emit(args, doc | {"message": "no drains"}, "no drains" + (
            " running" if args.running else "") + " in the journal")
        return EXIT_OK
    rows = []
    for d in found:
        status = d.status
        if d.status == "running":
            status = ("running, no heartbeat " + _age(d.heartbeat_at, now) if d.abandoned(now)
                      else "stopping" if d.stop_requested else "running")
        rows.append((d.id, d.entity, status, f"{d.count:,}", f"{d.estimated:,}", d.batches,
                     d.busy, d.parked, f"{d.started_at.astimezone(UTC):%Y-%m-%d %H:%M}",
                     _age(d.heartbeat_at, now), d.operator))
    emit(args, doc, table(("DRAIN", "ENTITY", "STATUS", "DELETED", "ESTIMATED", "BATCHES",
                           "BUSY", "PARKED", "STARTED (UTC)", "HEARTBEAT", "OPERATOR"), rows,
                          right=(3, 4, 5, 6, 7)))
    return EXIT_OK


async def cmd_stop(args: argparse.Namespace, settings: Settings, db: Database | None) -> int:
    """Ask a running drain to stop after its current batch (any process, any machine)."""
    assert db is not None
    d = await journal.drains.request_stop(db, args.drain_id)
    emit(args, d.to_dict(), f"drain {d.id} ({d.entity}, {d.count:,} deleted so far): stop "
                            "requested; it stops after its current batch")
    return EXIT_OK
