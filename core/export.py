"""Every CSV the project writes: pruned ids (of a result, a run, a drain) and archived rows.

Always through the csv module. The ids CSV is `run_id,entity,id,pruned_at`; the archive CSV is
`run_id,entity,id,row` with each row's columns as one JSON document.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TextIO

from core import journal
from core.db import Database
from core.repository.pruner import PruneResult

IDS_HEADER = ("run_id", "entity", "id", "pruned_at")
ARCHIVE_HEADER = ("run_id", "entity", "table", "kind", "row")

IdRow = tuple[Any, str, Any, datetime]  # run_id, entity, id, pruned_at


def write_ids_csv(out: TextIO | IO[str], rows: Iterable[IdRow], header: bool = True) -> int:
    """Write `run_id,entity,id,pruned_at` rows; returns how many ids were written. A composite
    key's id is a JSON array of its parts."""
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(IDS_HEADER)
    n = 0
    for run_id, entity, id_, pruned_at in rows:
        writer.writerow(["" if run_id is None else run_id, entity,
                         id_ if isinstance(id_, str) else journal.id_text(id_),
                         pruned_at.isoformat()])
        n += 1
    return n


def ids_csv(rows: Iterable[IdRow]) -> str:
    """The ids CSV as text (what a download button serves)."""
    buf = io.StringIO()
    write_ids_csv(buf, rows)
    return buf.getvalue()


def result_csv(result: PruneResult) -> str:
    """The ids of a prune result as CSV text."""
    at = result.pruned_at or datetime.now(UTC)
    return ids_csv((result.run_id, result.entity, i, at) for i in result.ids)


def run_ids_csv(run: journal.Run, ids: Iterable[Any]) -> str:
    """A journaled run's ids as CSV text."""
    return ids_csv((run.id, run.entity, i, run.finished_at) for i in ids)


async def export_run(db: Database, run_id: int, out: TextIO) -> int:
    """A run's pruned ids as CSV; returns how many ids."""
    run = await journal.get_run(db, run_id)
    ids = await journal.run_ids(db, run_id)
    return write_ids_csv(out, ((run.id, run.entity, i, run.finished_at) for i in ids))


async def drain_csv(db: Database, run_ids: Iterable[int]) -> str:
    """Every id of the given runs (a drain's batches), read back from the journal."""
    rows: list[IdRow] = []
    for run_id in run_ids:
        run = await journal.get_run(db, run_id)
        rows.extend((run.id, run.entity, i, run.finished_at)
                    for i in await journal.run_ids(db, run_id))
    return ids_csv(rows)


def write_archive_csv(out: TextIO, run: journal.Run, rows: Iterable[journal.ArchivedRow]) -> int:
    """Archived rows as CSV, each row's columns as one JSON document; returns how many."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ARCHIVE_HEADER)
    n = 0
    for r in rows:
        writer.writerow([run.id, run.entity, r.table, r.kind, json.dumps(r.row, sort_keys=True)])
        n += 1
    return n


def archive_csv(run: journal.Run, rows: Iterable[journal.ArchivedRow]) -> str:
    buf = io.StringIO()
    write_archive_csv(buf, run, rows)
    return buf.getvalue()


async def export_archive(db: Database, run_id: int, out: TextIO) -> int:
    """The archived rows of a run as CSV."""
    run = await journal.get_run(db, run_id)
    return write_archive_csv(out, run, await journal.archived_rows(db, run_id))


class IdsSink:
    """A drain's ids: kept in memory until there are more than `keep`, then streamed to a CSV
    file (`path`, or a temp file made on demand)."""

    def __init__(self, entity: str, path: Path | None, keep: int) -> None:
        self.entity, self.path, self.keep = entity, path, keep
        self.rows: list[IdRow] | None = []  # None once spilled
        self._file: IO[str] | None = None
        if path is not None:
            self._spill(path)

    def _spill(self, path: Path) -> None:
        self.path = path
        self._file = open(path, "w", newline="")  # noqa: SIM115 - closed in close()
        write_ids_csv(self._file, self.rows or [])
        self.rows = None

    def add(self, run_id: int, ids: list[Any], pruned_at: datetime) -> None:
        new = [(run_id, self.entity, i, pruned_at) for i in ids]
        if self.rows is not None and len(self.rows) + len(new) > self.keep:
            fd, name = tempfile.mkstemp(prefix=f"pruner-drain-{self.entity}-", suffix=".csv")
            os.close(fd)
            self._spill(Path(name))
        if self._file is not None:
            write_ids_csv(self._file, new, header=False)
            self._file.flush()
        elif self.rows is not None:
            self.rows.extend(new)

    @property
    def ids(self) -> list[Any] | None:
        return None if self.rows is None else [row[2] for row in self.rows]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
