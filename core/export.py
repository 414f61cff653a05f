"""Every CSV the project writes: pruned ids (of a result, a run, a drain) and archived rows.

Always through the csv module and `_writer`. The ids CSV is `run_id,entity,id,pruned_at`; the
archive CSV is `run_id,entity,table,kind,row` with each row's columns as one JSON document.

Formula injection (OWASP): a text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
return gets a leading `'`, so a spreadsheet shows it as text instead of running it. Ids and
plain numbers are never altered: an exported id must read back as the same id (`--ids-from`).

`CsvFile` is a CSV written to a path only once the operation it records has committed.
"""

from __future__ import annotations

import csv
import inspect
import io
import json
import os
import re
import secrets
import shutil
import stat
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, TextIO, TypeVar, cast

from core import errors, journal
from core.db import Database
from core.repository.pruner import PruneResult

IDS_HEADER = ("run_id", "entity", "id", "pruned_at")
ARCHIVE_HEADER = ("run_id", "entity", "table", "kind", "row")

IdRow = tuple[Any, str, Any, datetime]  # run_id, entity, id, pruned_at
T = TypeVar("T")

# OWASP CSV injection: cells starting with one of these are formulas to a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """`value` as a CSV cell a spreadsheet will not run: text starting like a formula gets a
    leading `'`; anything else (plain numbers such as -5 or +1.5e3 included) is unchanged."""
    if (isinstance(value, str) and value.startswith(FORMULA_STARTS)
            and not _PLAIN_NUMBER.fullmatch(value)):
        return "'" + value
    return value


class _Writer:
    """csv.writer whose cells go through `safe_cell`, except the columns named `exact` (ids)."""

    def __init__(self, out: TextIO | IO[str], exact: Sequence[int] = ()) -> None:
        self._csv = csv.writer(out, lineterminator="\n")
        self._exact = frozenset(exact)

    def header(self, names: Sequence[str]) -> None:
        self._csv.writerow(names)

    def row(self, cells: Sequence[Any]) -> None:
        self._csv.writerow([c if i in self._exact else safe_cell(c) for i, c in enumerate(cells)])

    def safe_row(self, cells: Sequence[Any]) -> None:
        """A row whose cells the caller already made safe (or that are exact ids)."""
        self._csv.writerow(cells)


def write_ids_csv(out: TextIO | IO[str], rows: Iterable[IdRow], header: bool = True) -> int:
    """Write `run_id,entity,id,pruned_at` rows; returns how many ids were written. A composite
    key's id is a JSON array of its parts. Ids are written exactly as the journal keeps them.

    A run's rows share their run id, entity and time: those cells are made safe and rendered
    once per run, and a uuid or integer id (which never needs quoting) goes between them as
    is — a drain spills up to millions of ids here."""
    writer = _Writer(out, exact=(2,))
    if header:
        writer.header(IDS_HEADER)
    n = 0
    shared: tuple[Any, str, datetime] | None = None
    cells: tuple[Any, Any, Any] = ("", "", "")
    before = after = ""
    for run_id, entity, id_, pruned_at in rows:
        if shared is None or shared[0] != run_id or shared[1] != entity \
                or shared[2] != pruned_at:
            shared = (run_id, entity, pruned_at)
            cells = ("" if run_id is None else safe_cell(run_id), safe_cell(entity),
                     safe_cell(pruned_at.isoformat()))
            before = _rendered(cells[:2]).rstrip("\n") + ","
            after = "," + _rendered(cells[2:])
        if isinstance(id_, uuid.UUID) or type(id_) is int:
            out.write(before + str(id_) + after)
        else:
            writer.safe_row((cells[0], cells[1],
                             id_ if isinstance(id_, str) else journal.id_text(id_), cells[2]))
        n += 1
    return n


def _rendered(cells: Sequence[Any]) -> str:
    """Cells as one CSV line, quoted as csv.writer quotes them."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    return buf.getvalue()


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


async def export_run(db: Database, run_id: int, out: TextIO | IO[str]) -> int:
    """A run's pruned ids as CSV; returns how many ids."""
    return await write_runs_csv(db, [run_id], out)


async def write_runs_csv(db: Database, run_ids: Iterable[int], out: TextIO | IO[str]) -> int:
    """Every id of the given runs (a drain's batches), read back from the journal, written run
    by run under one header; returns how many ids."""
    n = write_ids_csv(out, [])
    for run_id in run_ids:
        run = await journal.get_run(db, run_id)
        ids = await journal.run_ids(db, run_id)
        n += write_ids_csv(out, ((run.id, run.entity, i, run.finished_at) for i in ids),
                           header=False)
    return n


async def drain_csv(db: Database, run_ids: Iterable[int]) -> str:
    """Every id of the given runs (a drain's batches), read back from the journal."""
    buf = io.StringIO()
    await write_runs_csv(db, run_ids, buf)
    return buf.getvalue()


def write_archive_csv(out: TextIO | IO[str], run: journal.Run,
                      rows: Iterable[journal.ArchivedRow]) -> int:
    """Archived rows as CSV, each row's columns as one JSON document; returns how many."""
    writer = _Writer(out)
    writer.header(ARCHIVE_HEADER)
    n = 0
    for r in rows:
        writer.row([run.id, run.entity, r.table, r.kind, json.dumps(r.row, sort_keys=True)])
        n += 1
    return n


def archive_csv(run: journal.Run, rows: Iterable[journal.ArchivedRow]) -> str:
    buf = io.StringIO()
    write_archive_csv(buf, run, rows)
    return buf.getvalue()


async def export_archive(db: Database, run_id: int, out: TextIO | IO[str]) -> int:
    """The archived rows of a run as CSV. A run that was not archived is InvalidArgument
    (nothing is written): an empty archive would read as "it deleted nothing"."""
    run = await journal.get_run(db, run_id)
    if not run.archived:
        raise errors.InvalidArgument(
            f"run {run.id} was not archived (only a prune with --archive keeps its rows); "
            f"export its ids without --archive")
    return write_archive_csv(out, run, await journal.archived_rows(db, run_id))


class CsvFile:
    """A CSV file written only after the operation it records has committed.

    Made before the operation, it checks that `path` can be written (InvalidArgument if not, so
    an unwritable path fails before anything is deleted) and touches nothing there. `publish`
    then writes a regular file (or a new one) to a temp file in the same directory and renames
    it over `path`: an existing file is replaced whole or not at all, with its permission bits
    kept. Anything else (a device such as /dev/stdout, a FIFO) is written in place by `publish`.
    Leaving the `with` block without publishing removes the temp file."""

    def __init__(self, path: str | Path, *, option: str = "--csv") -> None:
        self.path = Path(path)
        self._tmp: Path | None = None  # None: written in place (a device, a FIFO)
        self._keep_mode = False  # replacing an existing file: keep its permission bits
        try:
            mode = os.stat(self.path).st_mode
        except FileNotFoundError:
            mode = None
        except OSError as exc:
            raise errors.InvalidArgument(f"{option} {path}: {exc.strerror or exc}") from None
        if mode is not None and stat.S_ISDIR(mode):
            raise errors.InvalidArgument(f"{option} {path}: is a directory")
        if mode is not None and not stat.S_ISREG(mode):
            if not os.access(self.path, os.W_OK):
                raise errors.InvalidArgument(f"{option} {path}: not writable")
            return
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        try:  # 0o666 less the umask, as open() would create it
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except OSError as exc:
            raise errors.InvalidArgument(f"{option} {path}: {exc.strerror or exc}") from None
        self._tmp = tmp
        self._keep_mode = mode is not None

    async def publish(self, write: Callable[[IO[str]], T | Awaitable[T]]) -> T:
        """Write the CSV through `write(file)` (a function or a coroutine function) and put it at
        `path`; returns what `write` returned. OSError if that fails: the temp file is removed
        and an existing file at `path` stays as it was."""
        with self._open() as out:
            result = write(out)
            if inspect.isawaitable(result):
                result = await result
        return cast(T, result)

    @contextmanager
    def _open(self) -> Iterator[IO[str]]:
        if self._tmp is None:
            with open(self.path, "w", newline="") as out:
                yield out
            return
        try:
            with open(self._tmp, "w", newline="") as out:
                yield out
                out.flush()
                os.fsync(out.fileno())
            if self._keep_mode:
                shutil.copymode(self.path, self._tmp)
            os.replace(self._tmp, self.path)
            self._tmp = None
        finally:
            self.discard()

    def discard(self) -> None:
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None

    def __enter__(self) -> CsvFile:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.discard()


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
