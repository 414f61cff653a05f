"""What the CLI reports (issue 12, case 12, and `pruner check`): history with headers, drain ids
and honest empty messages; preview --ids-from; why each requested id was skipped; list columns
that fit any name; a drain prompt that names what this drain can reach; the archive of a run
that was not archived; the plan of each pruner on this database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli.draining import drain_reach
from core.cli.output import table
from core.reference_schema import audit_logs, sessions
from tests.clirun import cli
from tests.factories import add_logs, add_session, count
from tests.pg.test_cli import on_a_terminal

pytestmark = pytest.mark.timeout(300)
ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------ history
async def test_history_has_headers_and_drain_ids(db, database_url):
    await add_logs(db, [10 + i for i in range(5)])
    r = await cli(database_url, "drain", "audit_logs", "--older-than", "1d", "--batch-size", "2",
                  "--yes", "--json")
    drain_id = json.loads(r.stdout)["drain_id"]
    r = await cli(database_url, "history")
    assert r.returncode == 0, r.stderr
    header, *rows = r.stdout.splitlines()
    assert header.split() == ["RUN", "FINISHED", "(UTC)", "ENTITY", "KIND", "STATUS", "COUNT",
                              "DRAIN", "OPERATOR", "REASON"]
    assert len(rows) == 3 and all(drain_id in row for row in rows)
    # every column starts where its header does
    start = header.index("DRAIN")
    assert all(row[start:start + len(drain_id)] == drain_id for row in rows)
    r = await cli(database_url, "history", "--drain", drain_id, "--json")
    assert {run["drain_id"] for run in json.loads(r.stdout)["runs"]} == {drain_id}


async def test_history_says_honestly_why_it_is_empty(db, database_url):
    r = await cli(database_url, "history")
    assert r.returncode == 0 and r.stdout.startswith("the journal is empty"), r.stdout
    await add_session(db, age_days=30)
    await cli(database_url, "prune", "sessions", "--older-than", "7d", "--yes")
    r = await cli(database_url, "history", "--entity", "vfolders")
    assert r.returncode == 0 and r.stdout.strip() == "no runs of vfolders in the journal"
    r = await cli(database_url, "history", "--entity", "sessions", "--status", "failed",
                  "--json")
    doc = json.loads(r.stdout)
    assert doc["runs"] == [] and doc["message"] == "no failed runs of sessions in the journal"
    r = await cli(database_url, "history", "--entity", "nosuch")
    assert r.returncode == 2 and "unknown entity 'nosuch'" in r.stderr
    r = await cli(database_url, "history", "--entity", "sessions")
    assert r.returncode == 0 and "sessions" in r.stdout.splitlines()[1]


# ------------------------------------------------------------------------------ ids
async def test_preview_takes_ids_from(db, database_url, tmp_path):
    old = [str(await add_session(db, age_days=30 + i)) for i in range(3)]
    young = str(await add_session(db, age_days=1))
    ids = tmp_path / "ids.txt"
    ids.write_text(f"{old[0]}\n{young}\n")
    r = await cli(database_url, "preview", "sessions", "--older-than", "7d", "--ids-from",
                  str(ids), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert (doc["candidates"], doc["selected_ids"], doc["limit"]) == (1, 2, 2)
    assert doc["cascade"]["sessions"] == 1
    r = await cli(database_url, "preview", "sessions", "--older-than", "7d", "--ids-from",
                  str(ids))
    assert "1 candidates among 2 selected ids" in r.stdout
    assert await count(db, sessions) == 4


async def test_skipped_ids_say_why(db, database_url, tmp_path):
    old = [str(await add_session(db, age_days=30 + i)) for i in range(3)]
    young = str(await add_session(db, age_days=1))
    ids = tmp_path / "ids.txt"
    ids.write_text("\n".join([*old, young]) + "\n")
    r = await cli(database_url, "prune", "sessions", "--older-than", "7d", "--ids-from",
                  str(ids), "--limit", "2", "--yes", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["count"] == 2 and len(doc["skipped"]) == 2
    assert doc["skip_reasons"][young] == "did not qualify"
    (over,) = set(doc["skipped"]) - {young}
    assert doc["skip_reasons"][over] == "over the limit"
    assert doc["skipped_by_reason"] == {"did not qualify": 1, "over the limit": 1}
    # the text names the counts per reason (and not "did not qualify" for all)
    await add_session(db, age_days=40)
    ids.write_text("\n".join([over, young]) + "\n")
    r = await cli(database_url, "prune", "sessions", "--older-than", "7d", "--ids-from",
                  str(ids), "--limit", "1", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "1 requested ids were skipped (1 did not qualify)" in r.stdout


# ------------------------------------------------------------------------------ list
def test_table_columns_fit_any_width():
    text = table(("NAME", "DESCRIPTION"), [("a", "x"), ("a_very_long_pruner_name" * 3, "y")])
    header, *rows = text.splitlines()
    start = header.index("DESCRIPTION")
    assert [row[start] for row in rows] == ["x", "y"]
    assert all(row[start - 2:start] == "  " for row in rows)


def test_list_columns_fit_a_long_pruner_name(tmp_path):
    long_name = "job_runs_of_the_nightly_reconciliation_pipeline_archive"
    (tmp_path / "long_pruners.py").write_text(
        "import sqlalchemy as sa\nfrom core import Pruner, register\n"
        "t = sa.Table('job_runs', sa.MetaData(), sa.Column('id', sa.BigInteger, "
        "primary_key=True), sa.Column('state', sa.Text), sa.Column('finished_at', "
        "sa.DateTime(timezone=True)))\n"
        f"register(Pruner(name={long_name!r}, table=t, terminal=t.c.state == 'done', "
        "timestamp='finished_at', description='Finished job runs'))\n")
    env = {**os.environ, "PRUNER_MODULES": "long_pruners", "PYTHONPATH": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "core", "list"], env=env, cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    header, *rows = r.stdout.splitlines()
    start = header.index("DESCRIPTION")
    table_at = header.index("TABLE")
    assert any(row.startswith(long_name + " ") for row in rows)
    for row in rows:  # every description starts in the DESCRIPTION column
        assert row[start - 1] == " " and row[start] != " ", row
        assert row[table_at - 1] == " " and row[table_at] != " ", row


# ------------------------------------------------------------------------------ drain prompt
def test_drain_reach():
    assert drain_reach(22_441, 1_000, None) == 22_441
    assert drain_reach(22_441, 1, 100) == 100
    assert drain_reach(50, 1_000, 3) == 50


async def test_the_drain_prompt_names_what_this_drain_can_reach(db, database_url):
    await add_logs(db, [10 + i for i in range(25)])
    r = on_a_terminal(database_url, "drain", "audit_logs", "--older-than", "1d",
                      "--batch-size", "10", "--max-batches", "2", stdin="audit_logs\n")
    assert r.returncode == 0, r.stderr
    assert "About to drain 20 of the 25 audit_logs" in r.stderr
    assert "in at most 2 batches of 10" in r.stderr
    assert await count(db, audit_logs) == 5
    r = on_a_terminal(database_url, "drain", "audit_logs", "--older-than", "1d",
                      "--batch-size", "10", stdin="no\n")
    assert r.returncode == 1 and "About to drain 5 audit_logs" in r.stderr


# ------------------------------------------------------------------------------ export
async def test_exporting_the_archive_of_a_run_that_was_not_archived_is_an_error(
        db, database_url, tmp_path):
    await add_session(db, age_days=30)
    await add_session(db, age_days=31)
    r = await cli(database_url, "prune", "sessions", "--older-than", "7d", "--limit", "1",
                  "--yes", "--json")
    plain_run = json.loads(r.stdout)["run_id"]
    out = tmp_path / "archive.csv"
    r = await cli(database_url, "export", str(plain_run), "--archive", "--csv", str(out))
    assert r.returncode == 2 and f"run {plain_run} was not archived" in r.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []
    r = await cli(database_url, "export", str(plain_run), "--archive")
    assert r.returncode == 2 and r.stdout == ""
    r = await cli(database_url, "prune", "sessions", "--older-than", "7d", "--yes", "--archive",
                  "--json")
    archived_run = json.loads(r.stdout)["run_id"]
    r = await cli(database_url, "export", str(archived_run), "--archive")
    assert r.returncode == 0 and len(r.stdout.splitlines()) > 1


# ------------------------------------------------------------------------------ check
async def test_check_prints_each_plan(db, database_url):
    r = await cli(database_url, "check")
    assert r.returncode == 0, r.stderr
    for name in ("audit_logs", "sessions", "vfolders"):
        assert any(line.startswith(f"{name}: ") for line in r.stdout.splitlines()), name
    assert "deletes kernels" in r.stdout
    r = await cli(database_url, "check", "sessions", "--json")
    doc = json.loads(r.stdout)
    assert doc["ok"] is True and [c["name"] for c in doc["pruners"]] == ["sessions"]
    assert doc["pruners"][0]["plan"][0].startswith("sessions: ")


async def test_check_exits_1_when_a_pruner_cannot_run_here(pg_cluster):
    empty = pg_cluster.create_database("pruner_check_empty")  # no tables at all
    r = await cli(empty, "check", "--json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["ok"] is False and all(not c["ok"] for c in doc["pruners"])
    assert all(c["error"] for c in doc["pruners"])
    r = await cli(empty, "check", "sessions")
    assert r.returncode == 1 and "sessions: cannot run on this database" in r.stdout
    r = await cli(empty, "check", "nosuch")
    assert r.returncode == 2 and "unknown entity" in r.stderr
