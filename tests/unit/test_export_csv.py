"""core.export: every CSV cell safe from formula injection while ids and numbers stay exact, and
`CsvFile`, the CSV written only after a commit (issue 12, "What to build" and case 10)."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core import errors, export, journal
from core.repository.pruner import PruneResult

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize("cell, shown", [
    ("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    # plain numbers and harmless text are never altered
    ("-5", "-5"), ("+1.5e3", "+1.5e3"), ("-.5", "-.5"), ("42", "42"), ("sessions", "sessions"),
    ("a=b", "a=b"), ("", ""), (7, 7), (None, None),
])
def test_safe_cell(cell: object, shown: object) -> None:
    assert export.safe_cell(cell) == shown


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_ids_stay_exact_and_other_text_cells_are_neutralised() -> None:
    ids = ["=cmd|' /C calc'!A0", "-7", "+1", "@x", "plain"]
    text = export.ids_csv((1, "=evil", i, AT) for i in ids)
    rows = _rows(text)
    assert rows[0] == list(export.IDS_HEADER)
    assert [r[2] for r in rows[1:]] == ids  # ids exactly as given: they must read back
    assert {r[1] for r in rows[1:]} == {"'=evil"}
    assert {r[0] for r in rows[1:]} == {"1"}


def test_a_result_csv_reads_back_as_the_same_ids() -> None:
    result = PruneResult(entity="job_runs", cutoff=AT, limit=3, count=3,
                         ids=["-1", "=A1", ("@a", 2)], deleted={"job_runs": 3}, run_id=9,
                         pruned_at=AT)
    rows = list(csv.DictReader(io.StringIO(export.result_csv(result))))
    assert [r["id"] for r in rows] == ["-1", "=A1", journal.id_text(("@a", 2))]


def test_archive_cells_are_neutralised() -> None:
    run = journal.Run(id=3, entity="sessions", kind="prune", status="succeeded", cutoff=AT,
                      limit=1, cascade_rbac=True, archived=True, operator="o", reason="",
                      drain_id=None, started_at=AT, finished_at=AT, count=1, deleted={},
                      error=None, updated={}, busy=0, attempt=1, restored_from=None)
    rows = [journal.ArchivedRow("+table", "deleted", {"name": "=1+1"})]
    (header, row) = _rows(export.archive_csv(run, rows))
    assert header == list(export.ARCHIVE_HEADER)
    assert row[:4] == ["3", "sessions", "'+table", "deleted"]
    assert row[4].startswith("{")  # a JSON document: starts with {, so it stays as it is


# ------------------------------------------------------------------------------ CsvFile
def _publish(target: export.CsvFile, text: str) -> None:
    asyncio.run(target.publish(lambda f: f.write(text)))


def test_an_existing_file_is_untouched_until_publish(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("old\n")
    os.chmod(path, 0o640)
    with export.CsvFile(path) as target:
        assert path.read_text() == "old\n"
        _publish(target, "new\n")
    assert path.read_text() == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # its permission bits are kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ids.csv"]  # no temp file left


def test_leaving_without_publish_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("old\n")
    with pytest.raises(RuntimeError), export.CsvFile(path):
        raise RuntimeError("the prune was refused")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["ids.csv"]
    with export.CsvFile(tmp_path / "new.csv"):
        pass
    assert [p.name for p in tmp_path.iterdir()] == ["ids.csv"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("old\n")

    def broken(f: object) -> None:
        raise OSError(28, "No space left on device")

    with export.CsvFile(path) as target, pytest.raises(OSError):
        asyncio.run(target.publish(broken))
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["ids.csv"]


def test_a_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        with export.CsvFile(tmp_path / "new.csv") as target:
            _publish(target, "x\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o644


@pytest.mark.parametrize("where, says", [
    ("missing-dir/ids.csv", "No such file"),
    (".", "is a directory"),
])
def test_an_unusable_path_is_refused_up_front(tmp_path: Path, where: str, says: str) -> None:
    with pytest.raises(errors.InvalidArgument) as info:
        export.CsvFile(tmp_path / where)
    assert says in str(info.value)


def test_a_device_is_written_in_place(tmp_path: Path) -> None:
    with export.CsvFile("/dev/null") as target:
        _publish(target, "x\n")  # no temp file next to it, no rename over the device
    assert Path("/dev/null").is_char_device()
    with export.CsvFile("/dev/full") as target, pytest.raises(OSError):
        _publish(target, "x\n")
