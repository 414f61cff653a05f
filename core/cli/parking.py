"""`pruner parked`: rows drains set aside, with the reason; --retry prunes them again, and
--in-chunks prunes a row too big for one statement child chunk by child chunk (not atomic).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from core import journal, registry
from core.chunks import ChunksCommitted, prune_in_chunks
from core.cli.args import UsageError, cutoff_of, request_of
from core.cli.exits import EXIT_OK
from core.cli.output import Committed, after_commit, confirm, emit, fmt_counts, table
from core.cli.pruning import retry_of
from core.db import Database
from core.drain import retry_parked
from core.repository.pruner import SweepRequest
from core.settings import Settings


async def cmd_parked(args: argparse.Namespace, settings: Settings, db: Database | None) -> int:
    """Rows drains set aside, with the reason; --retry prunes an entity's parked rows again."""
    assert db is not None
    if args.entity:
        registry.variants(args.entity)  # an unknown name is bad usage
    if args.retry:
        return await _retry(args, settings, db)
    found = await journal.parked.listing(db, args.entity, limit=args.limit)
    doc = {"parked": [p.to_dict() for p in found]}
    if not found:
        emit(args, doc, "no parked rows" + (f" of {args.entity}" if args.entity else ""))
        return EXIT_OK
    rows = [(p.entity, p.row_key, f"{p.parked_at.astimezone(UTC):%Y-%m-%d %H:%M}",
             (p.drain_id or "-")[:8], p.reason) for p in found]
    emit(args, doc, table(("ENTITY", "KEY", "PARKED (UTC)", "DRAIN", "REASON"), rows))
    return EXIT_OK


async def _retry(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    if not args.entity:
        raise UsageError("--retry needs the pruner whose parked rows to prune again")
    keys = sorted(await journal.parked.keys(db, args.entity))
    if not keys:
        emit(args, {"count": 0, "released": []}, f"no parked rows of {args.entity}")
        return EXIT_OK
    pruner = await registry.resolve(db, args.entity)
    before = cutoff_of(args) if (args.before or args.older_than or args.policy) \
        else datetime.now(UTC)
    req = request_of(args, settings, pruner, limit=len(keys), before=before, ids=keys)
    if args.in_chunks:
        return await _in_chunks(args, settings, db, req, keys)
    confirm(pruner.name, "" if args.yes or not sys.stdin.isatty() else
            f"About to prune {len(keys):,} parked {pruner.name} rows again.", args.yes)
    result, released = await retry_parked(db, req, operator=args.operator or settings.operator,
                                          reason=args.reason, settings=settings.prune,
                                          retry=retry_of(args))
    with after_commit(f"run {result.run_id} deleted {result.count:,} parked {pruner.name}",
                      {"run_ids": [result.run_id]}):
        emit(args, {"run_id": result.run_id, "count": result.count, "released": released,
                    "deleted": result.deleted, "skip_reasons": result.skip_reasons},
             f"run {result.run_id}: deleted {result.count:,} of {len(keys):,} parked "
             f"{pruner.name} ({fmt_counts(result.deleted)}); still parked: "
             f"{len(keys) - len(released):,}")
    return EXIT_OK


async def _in_chunks(args: argparse.Namespace, settings: Settings, db: Database,
                     req: SweepRequest, keys: list[str]) -> int:
    """Each parked row's children in chunks, then the row (not atomic: said before it runs)."""
    name = req.pruner.name
    confirm(name, "" if args.yes or not sys.stdin.isatty() else
            f"About to prune {len(keys):,} parked {name} rows in chunks of {args.in_chunks:,} "
            "child rows. This is NOT atomic: each chunk commits on its own; if it stops "
            "midway, the children deleted so far stay deleted and the row stays parked.",
            args.yes)
    done: list[dict[str, Any]] = []
    for key, one in zip(keys, (replace(req, ids=(i,), limit=1) for i in req.ids or ()),
                        strict=True):
        details = {"chunked": done}
        what = (f"{len(done)} parked {name} row(s) pruned in chunks"
                if done else f"chunks of {name} {key}")
        with after_commit(what, details) if done else contextlib.nullcontext():
            try:
                result = await prune_in_chunks(
                    db, one, chunk_size=args.in_chunks,
                    operator=args.operator or settings.operator,
                    reason=args.reason or "parked row pruned in chunks",
                    settings=settings.prune, retry=retry_of(args))
            except ChunksCommitted as exc:  # some chunks are committed: exit 3, not 1
                done.append(exc.result.to_dict())
                raise Committed(f"{name} {key}: {exc}", details) from exc
        await journal.parked.release(db, name, [key])
        done.append(result.to_dict())
    emit(args, {"chunked": done}, "\n".join(
        f"{d['key']}: run {d['run_id']} after {len(d['chunks'])} chunk run(s) "
        f"({fmt_counts(d['deleted'])}); not atomic" for d in done))
    return EXIT_OK
