"""The `pruner` subcommands that delete (or put back) one batch: prune (and its rehearsal,
--dry-run) and restore of an archived run.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections import Counter
from typing import Any

from core import export, journal, operations, registry
from core.cli.args import request_of
from core.cli.exits import EXIT_OK
from core.cli.output import after_commit, confirm, emit, fmt_counts, open_csv, publish
from core.cli.reading import preview_lines
from core.db import Database
from core.preflight import preflight
from core.preview import preview
from core.repository.pruner import PruneResult, SweepRequest
from core.restore import restore
from core.settings import Settings


def retry_of(args: argparse.Namespace) -> operations.Retry:
    """--retries N: N more attempts after a transient failure (0: none)."""
    return operations.Retry(attempts=args.retries + 1)


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
                                            reason=args.reason, settings=settings.prune,
                                            retry=retry_of(args))
        details: dict[str, Any] = {"run_ids": [result.run_id]}
        done = (contextlib.nullcontext() if result.dry_run else  # a rehearsal committed nothing
                after_commit(f"run {result.run_id} deleted {result.count:,} {pruner.name}",
                             details))
        with done:
            doc = details["result"] = _prune_doc(result)
            verb = "would delete" if result.dry_run else "deleted"
            text = (f"run {result.run_id}: {verb} {result.count:,} {pruner.name} "
                    f"({fmt_counts(result.deleted)}){_skipped_text(result)}")
            if result.dry_run:  # a rehearsal also says what the prune would want
                pf = await preflight(db, pruner)
                doc["preflight"] = pf.to_dict()
                text = "\n".join([text, *(line for line in preview_lines(
                    await preview(db, req, sample_size=0, blocked_sample=0,
                                  settings=settings.prune), req, pf)
                    if line.startswith(("warning:", "preflight:")))])
            if out is not None:
                await publish(out, "--csv", lambda f: f.write(export.result_csv(result)))
                doc["csv"] = args.csv
            emit(args, doc, text)
    return EXIT_OK


async def _describe(db: Database, req: SweepRequest, args: argparse.Namespace,
                    settings: Settings) -> str:
    """The confirmation's summary (on a terminal only): how many of how many, the time range
    they span, every table the prune deletes from or sets NULL in, the warnings and the
    preflight's offered indexes."""
    if args.yes or not sys.stdin.isatty():
        return ""
    name = req.pruner.name
    pv = await preview(db, req, sample_size=0, blocked_sample=0, settings=settings.prune)
    pf = await preflight(db, req.pruner)
    of = f"{len(req.ids):,} selected" if req.ids is not None else f"{pv.candidates:,}"
    lines = [f"About to delete {pv.would_delete:,} of {of} {name} older than "
             f"{req.before.isoformat()} ({req.pruner.timestamp} from {pv.next_oldest} to "
             f"{pv.next_newest}), with:"]
    lines += [f"  {table}: {n:,}" for table, n in pv.cascade.items()]
    lines += [f"  {table}: {n:,} set to NULL" for table, n in pv.updated.items() if n]
    lines += [line for line in preview_lines(pv, req, pf)
              if line.startswith(("warning:", "preflight:"))]
    return "\n".join(lines)


async def cmd_restore(args: argparse.Namespace, settings: Settings, db: Database | None) -> int:
    """Put an archived run back (see core.restore); asks first unless --yes."""
    assert db is not None
    run = await journal.get_run(db, args.run_id)
    what = ""
    if not args.yes and sys.stdin.isatty():
        what = (f"About to put back what run {run.id} deleted: {run.count:,} {run.entity} "
                f"({fmt_counts(run.deleted)}), pruned {run.finished_at:%Y-%m-%d %H:%M} UTC.")
    confirm(run.entity, what, args.yes)
    result = await restore(db, args.run_id, operator=args.operator or settings.operator,
                           reason=args.reason)
    with after_commit(f"run {result.run_id} restored run {args.run_id}",
                      {"run_ids": [result.run_id]}):
        emit(args, result.to_dict(),
             f"run {result.run_id}: restored run {result.restored_from} of {result.entity} "
             f"({fmt_counts(result.inserted)})"
             + (f"; references set back: {fmt_counts(result.reset)}" if result.reset else ""))
    return EXIT_OK
