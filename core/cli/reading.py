"""The `pruner` subcommands that read: list, check, preview, history, export (and demo seed).
Each takes the parsed arguments and a database, prints its result and returns an exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from core import errors, export, health, journal, registry
from core.backendai.variants import model_of
from core.cli.args import request_of
from core.cli.exits import EXIT_FAILED, EXIT_OK
from core.cli.output import emit, fmt_counts, open_csv, publish, table, writing_stdout
from core.db import Database
from core.entities import RETENTION
from core.preflight import Preflight, preflight
from core.preview import Preview, preview
from core.repository.pruner import SweepRequest
from core.repository.pruner.plan import describe
from core.settings import Settings


async def cmd_list(args: argparse.Namespace, settings: Settings, db: Database | None) -> int:
    """Every registered pruner: its table, the models it has a declaration for (the live
    catalog picks one), the platform's retention category that covers it, what it prunes."""
    pruners = registry.all_pruners()

    def models(name: str) -> str:
        return ",".join(v.model or "any" for v in registry.variants(name))

    doc = {"pruners": [{"name": p.name, "table": p.table.name, "timestamp": p.timestamp,
                        "key": [c.name for c in p.key], "description": p.description,
                        "models": models(p.name).split(","),
                        "category": RETENTION.get(p.name)} for p in pruners]}
    emit(args, doc, table(("NAME", "TABLE", "MODELS", "CATEGORY", "DESCRIPTION"),
                          [(p.name, p.table.name, models(p.name), RETENTION.get(p.name) or "-",
                            p.description) for p in pruners]))
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
    pf = await preflight(db, pruner)
    doc = pv.to_dict() | {"preflight": pf.to_dict()}
    if req.ids is not None:
        doc["selected_ids"] = len(req.ids)
    emit(args, doc, "\n".join(preview_lines(pv, req, pf)))
    return EXIT_OK


def preview_lines(pv: Preview, req: SweepRequest, pf: Preflight) -> list[str]:
    """A preview as an operator reads it: what qualifies, what the capped prune takes (time
    range, per table, SET NULL), what is kept and why, what else names the rows, the warnings
    and the indexes the prune would want (offered, never created)."""
    p = req.pruner
    selected = "" if req.ids is None else f" among {len(req.ids):,} selected ids"
    text = [f"{pv.entity}: {pv.candidates:,} candidates{selected} before "
            f"{pv.cutoff.isoformat()} ({pv.blocked:,} blocked, {pv.young:,} not old enough"
            + (f", {pv.no_timestamp:,} without a {p.timestamp}" if pv.no_timestamp else "")
            + ")",
            f"oldest {pv.oldest}, newest {pv.newest}"]
    if pv.candidates:
        text.append(f"a prune with --limit {pv.limit:,} takes {pv.would_delete:,} "
                    f"({pv.next_oldest} .. {pv.next_newest}) and deletes: "
                    f"{fmt_counts(pv.cascade)}")
        if any(pv.updated.values()):
            text.append(f"  and sets references to NULL: {fmt_counts(pv.updated)}")
        if any(pv.mentions.values()):
            text.append(f"  rows that name them without a foreign key (kept): "
                        f"{fmt_counts(pv.mentions)}")
    text += [f"  blocked: {reason}: {n:,}" for reason, n in pv.blocked_by.items() if n]
    text += [f"  {', '.join(str(row[c.name]) for c in p.key)}  {row[p.timestamp]}"
             for row in pv.sample]
    text += [f"warning: {w}" for w in pv.warnings]
    text += [f"preflight: {u.table}({', '.join(u.columns)}) has no index for the {u.kind} "
             f"lookup ({u.what}; ~{u.rows:,} rows): {u.fix}" for u in pf.unindexed]
    c = pf.candidate_index
    if c is not None and not c.existing:
        text.append(f"preflight: no index leads with {c.columns[0]}; offered (not run): "
                    f"{c.statement}")
    return text


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
