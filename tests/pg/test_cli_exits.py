"""Exit codes, CSV files, --json failures and closed pipes (issue 12, case 10).

0 done; 1 failed, nothing deleted; 2 bad usage; 3 the deletes are committed but a later step
failed (the message names the run and says so); 141 stdout closed by its reader (quiet)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import journal
from core.reference_schema import audit_logs, sessions
from tests.clirun import cli
from tests.factories import add_logs, add_session, count

pytestmark = pytest.mark.timeout(300)
ROOT = Path(__file__).resolve().parents[2]


def pruner(url: str, *args: str, **kw) -> subprocess.Popen[str]:
    env = {**os.environ, "PRUNER_DATABASE_URL": url, "PRUNER_OPERATOR": "cli-test"}
    return subprocess.Popen([sys.executable, "-m", "core", *args], env=env, cwd=ROOT,
                            text=True, stderr=subprocess.PIPE, **kw)


async def test_csv_to_a_full_device_after_the_commit_exits_3_naming_the_run(db, database_url):
    await add_session(db, age_days=30)
    r = await cli(database_url, "prune", "sessions", "--older-than", "7d", "--yes",
                  "--csv", "/dev/full")
    assert r.returncode == 3, r.stderr
    (line,) = r.stderr.strip().splitlines()
    (run,) = await journal.history(db)
    assert f"run {run.id} deleted 1 sessions" in line
    assert "deletes are committed" in line and "--csv /dev/full" in line
    assert "No space left on device" in line
    assert await count(db, sessions) == 0 and run.status == "succeeded"


async def test_csv_failure_after_the_commit_with_json_is_one_document(db, database_url):
    sid = str(await add_session(db, age_days=30))
    r = await cli(database_url, "prune", "sessions", "--older-than", "7d", "--yes", "--json",
                  "--csv", "/dev/full")
    assert r.returncode == 3
    doc = json.loads(r.stdout)
    assert doc["committed"] is True and doc["error"]["exit_code"] == 3
    assert doc["result"]["ids"] == [sid] and doc["run_ids"] == [doc["result"]["run_id"]]
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("why, argv, env_url, code", [
    ("refused: no --yes off a terminal", ["--older-than", "7d"], None, 2),
    ("refused: a cutoff in the future", ["--before", "2999-01-01T00:00:00Z", "--yes"], None, 2),
    ("failed: the database refuses the login", ["--older-than", "7d", "--yes"], "wrong", 1),
])
async def test_an_existing_csv_is_untouched_when_the_prune_does_not_commit(
        db, database_url, pg_cluster, tmp_path, why, argv, env_url, code):
    await add_session(db, age_days=30)
    out = tmp_path / "ids.csv"
    out.write_text("precious\n")
    url = database_url if env_url is None else database_url.replace(pg_cluster.password,
                                                                     env_url)
    r = await cli(url, "prune", "sessions", *argv, "--csv", str(out))
    assert r.returncode == code, (why, r.stderr)
    assert out.read_text() == "precious\n", why
    assert [p.name for p in tmp_path.iterdir()] == ["ids.csv"], "no temp file is left"
    assert await count(db, sessions) == 1


async def test_a_csv_is_replaced_whole_after_the_commit(db, database_url, tmp_path):
    ids = [str(await add_session(db, age_days=30 + i)) for i in range(2)]
    out = tmp_path / "ids.csv"
    out.write_text("precious\n")
    r = await cli(database_url, "prune", "sessions", "--older-than", "7d", "--yes",
                  "--csv", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_text().splitlines()[0] == "run_id,entity,id,pruned_at"
    assert sorted(line.split(",")[2] for line in out.read_text().splitlines()[1:]) == sorted(ids)
    assert [p.name for p in tmp_path.iterdir()] == ["ids.csv"]


async def test_an_unwritable_csv_path_is_refused_before_anything_is_deleted(db, database_url,
                                                                          tmp_path):
    await add_session(db, age_days=30)
    for path in (tmp_path / "no-such-dir" / "ids.csv", tmp_path):
        r = await cli(database_url, "prune", "sessions", "--older-than", "7d", "--yes",
                      "--csv", str(path))
        assert r.returncode == 2 and "--csv" in r.stderr, r.stderr
    assert await count(db, sessions) == 1


@pytest.mark.parametrize("argv, code, kind", [
    (["prune", "sessions", "--older-than", "7d", "--yes"], 1, "DatabaseUnavailable"),
    (["history"], 1, "DatabaseUnavailable"),
    (["prune", "sessions", "--older-than", "3m", "--yes"], 2, "UsageError"),
    (["prune", "nosuch", "--older-than", "7d", "--yes"], 2, "UnknownEntity"),
    (["frobnicate"], 2, "UsageError"),
])
async def test_a_failure_with_json_prints_a_json_error_document(
        db, database_url, pg_cluster, argv, code, kind):
    url = database_url.replace(pg_cluster.password, "wrong") if code == 1 else database_url
    r = await cli(url, *argv, "--json")
    assert r.returncode == code, r.stderr
    doc = json.loads(r.stdout)
    assert doc["error"]["type"] == kind and doc["error"]["exit_code"] == code
    assert doc["committed"] is False
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("pruner: ") and line.endswith(doc["error"]["message"])
    assert pg_cluster.password not in r.stdout + r.stderr


@contextlib.asynccontextmanager
async def refusing_to_delete(db, session_id) -> AsyncIterator[None]:
    """A trigger that makes every statement deleting `session_id` fail with "permission
    denied" (SQLSTATE 42501): a failure no retry cures, so a drain stops on it."""
    async with db.begin() as conn:
        await conn.execute(sa.text(
            "CREATE OR REPLACE FUNCTION pruner_test_refuse() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN IF OLD.id = '{session_id}' THEN RAISE EXCEPTION 'refused by a test "
            "trigger' USING ERRCODE = '42501'; END IF; RETURN OLD; END $$"))
        await conn.execute(sa.text(
            "CREATE TRIGGER pruner_test_refuse BEFORE DELETE ON sessions FOR EACH ROW "
            "EXECUTE FUNCTION pruner_test_refuse()"))
    try:
        yield
    finally:
        async with db.begin() as conn:
            await conn.execute(sa.text("DROP TRIGGER pruner_test_refuse ON sessions"))
            await conn.execute(sa.text("DROP FUNCTION pruner_test_refuse()"))


async def test_a_drain_that_fails_after_committed_batches_exits_3(db, database_url):
    ids = [await add_session(db, age_days=40 - i) for i in range(5)]  # oldest first
    async with refusing_to_delete(db, ids[2]):  # the second batch fails
        r = await cli(database_url, "drain", "sessions", "--older-than", "7d", "--batch-size",
                      "2", "--yes", "--json")
    assert r.returncode == 3, r.stderr
    doc = json.loads(r.stdout)
    assert doc["committed"] is True and doc["result"]["count"] == 2
    assert len(doc["run_ids"]) == 1 and doc["drain_id"] == doc["result"]["drain_id"]
    (line,) = r.stderr.strip().splitlines()
    assert doc["drain_id"] in line and "committed" in line and "refused by a test" in line
    assert await count(db, sessions) == 3


async def test_a_drain_whose_first_batch_fails_exits_1(db, database_url):
    ids = [await add_session(db, age_days=40 - i) for i in range(3)]
    async with refusing_to_delete(db, ids[0]):
        r = await cli(database_url, "drain", "sessions", "--older-than", "7d", "--batch-size",
                      "2", "--yes")
    assert r.returncode == 1 and "refused by a test trigger" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "deleted 0 sessions in 0 batches" in r.stdout and "stopped: failed" in r.stdout
    assert await count(db, sessions) == 3


async def test_a_drain_csv_is_written_from_the_journal_after_the_drain(db, database_url,
                                                                     tmp_path):
    await add_logs(db, [10 + i for i in range(25)])
    out = tmp_path / "drain.csv"
    out.write_text("precious\n")
    r = await cli(database_url, "drain", "audit_logs", "--older-than", "1d", "--batch-size",
                  "10", "--yes", "--json", "--csv", str(out))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    lines = out.read_text().splitlines()
    assert lines[0] == "run_id,entity,id,pruned_at" and len(lines) == 26
    assert {int(line.split(",")[0]) for line in lines[1:]} == set(doc["run_ids"])
    assert doc["ids_file"] == str(out)
    assert await count(db, audit_logs) == 0


# ------------------------------------------------------------------------------ closed pipes
async def test_a_closed_stdout_ends_quietly_with_141(db, database_url):
    await add_logs(db, [10 + i for i in range(50)])
    r = await cli(database_url, "prune", "audit_logs", "--older-than", "1d", "--yes")
    assert r.returncode == 0
    (run,) = await journal.history(db)
    for argv in (["export", str(run.id)], ["history"], ["list"], ["history", "--json"]):
        read, write = os.pipe()
        os.close(read)  # the reader is gone before the first byte
        proc = pruner(database_url, *argv, stdout=write)
        os.close(write)
        _, err = await asyncio.to_thread(proc.communicate, timeout=120)
        assert proc.returncode == 141, (argv, err)
        assert err == "", (argv, err)  # no traceback, no "internal error", no message


async def test_piping_into_head_prints_no_error(db, database_url):
    await add_logs(db, [10 + i % 300 for i in range(5000)])
    r = await cli(database_url, "prune", "audit_logs", "--older-than", "1d", "--yes",
                  "--limit", "5000")
    (run,) = await journal.history(db)
    env = {**os.environ, "PRUNER_DATABASE_URL": database_url}
    script = (f"{sys.executable} -m core export {run.id} | head -n 2; "
              "echo \"status=${PIPESTATUS[0]}\" >&2")
    proc = await asyncio.to_thread(subprocess.run, ["bash", "-c", script], env=env, cwd=ROOT,
                                   capture_output=True, text=True, timeout=120)
    assert r.returncode == 0
    assert proc.stdout.splitlines()[0] == "run_id,entity,id,pruned_at"
    assert len(proc.stdout.splitlines()) == 2
    assert proc.stderr.strip() in ("status=141", "status=0"), proc.stderr  # 0: all fit a buffer
    assert "Error" not in proc.stderr and "internal" not in proc.stderr


async def test_a_stdout_that_cannot_be_written_is_a_clear_failure(db, database_url):
    await add_session(db, age_days=30)
    full = os.open("/dev/full", os.O_WRONLY)
    try:
        for argv, code, says in (
                (["list"], 1, "pruner: failed: writing the output failed: No space left"),
                (["prune", "sessions", "--older-than", "7d", "--yes"], 3,
                 "deletes are committed, but writing the output failed: No space left")):
            proc = pruner(database_url, *argv, stdout=full)
            _, err = await asyncio.to_thread(proc.communicate, timeout=120)
            assert proc.returncode == code, (argv, err)
            (line,) = err.strip().splitlines()
            assert says in line, line
    finally:
        os.close(full)
    assert await count(db, sessions) == 0
