"""CSV export of pruned ids and archived rows, always through the csv module."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from core import journal
from core.db import Database
from core.repository.pruner import PruneResult

IDS_HEADER = ("run_id", "entity", "id", "pruned_at")
ARCHIVE_HEADER = ("run_id", "entity", "id", "row")


def write_ids_csv(out: TextIO, rows: Iterable[tuple[Any, str, Any, datetime]],
                  header: bool = True) -> int:
    """Write `run_id,entity,id,pruned_at` rows; returns how many ids were written."""
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(IDS_HEADER)
    n = 0
    for run_id, entity, id_, pruned_at in rows:
        writer.writerow(["" if run_id is None else run_id, entity, str(id_),
                         pruned_at.isoformat()])
        n += 1
    return n


def result_csv(result: PruneResult, pruned_at: datetime | None = None) -> str:
    """The ids of a result as CSV text (what the console's download button serves)."""
    import io

    at = pruned_at or result.pruned_at or datetime.now(UTC)
    buf = io.StringIO()
    write_ids_csv(buf, ((result.run_id, result.entity, i, at) for i in result.ids))
    return buf.getvalue()


async def export_run(db: Database, run_id: int, out: TextIO) -> int:
    """The ids of a journaled run as CSV; returns how many were written."""
    run = await journal.get_run(db, run_id)
    ids = await journal.run_ids(db, run_id)
    return write_ids_csv(out, ((run.id, run.entity, i, run.finished_at) for i in ids))


def write_archive_csv(out: TextIO, run: journal.Run,
                      rows: Iterable[tuple[str, dict[str, Any]]]) -> int:
    """Archived rows as CSV, each row's columns as one JSON document; returns how many."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ARCHIVE_HEADER)
    n = 0
    for entity_id, row in rows:
        writer.writerow([run.id, run.entity, entity_id, json.dumps(row, sort_keys=True)])
        n += 1
    return n


async def export_archive(db: Database, run_id: int, out: TextIO) -> int:
    """The archived rows of a run as CSV."""
    run = await journal.get_run(db, run_id)
    return write_archive_csv(out, run, await journal.archived_rows(db, run_id))
