"""The `pruner` CLI against the test database: in-process (`cli`), and as a real process where a
terminal or the installed script is the point."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.reference_schema import audit_logs, sessions
from tests.clirun import cli
from tests.factories import add_logs, add_session, count

pytestmark = pytest.mark.timeout(300)


def on_a_terminal(url: str, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    """`python -m core …` with stdin on a pseudo-terminal: the CLI sees an operator and asks."""
    env = {**os.environ, "PRUNER_DATABASE_URL": url, "PRUNER_OPERATOR": "cli-test"}
    cmd = [sys.executable, "-m", "core", *args]
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen(cmd, stdin=slave, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
        os.write(master, (stdin or "").encode())
        out, err = proc.communicate(timeout=120)
    finally:
        os.close(master)
        os.close(slave)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


async def test_list_and_preview_json(db, database_url):
    await add_session(db, age_days=40)
    await add_session(db, age_days=20, routed=True)
    r = await cli(database_url, "list", "--json")
    assert r.returncode == 0
    listed = [p["name"] for p in json.loads(r.stdout)["pruners"]]
    assert listed == sorted(listed) and {"audit_logs", "sessions", "vfolders"} <= set(listed)
    r = await cli(database_url, "preview", "sessions", "--older-than", "10d", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert {"candidates", "blocked", "oldest", "newest", "histogram", "cascade",
            "sample"} <= set(doc)
    assert (doc["candidates"], doc["blocked"]) == (1, 1)
    assert doc["cascade"] == {"sessions": 1, "kernels": 2, "session_dependencies": 0,
                              "association_scopes_entities": 4}
    assert sum(b["count"] for b in doc["histogram"]) == 1


async def test_prune_json_csv_history_and_export(db, database_url, tmp_path):
    ids = [str(await add_session(db, age_days=30 + i)) for i in range(3)]
    out = tmp_path / "ids.csv"
    r = await cli(database_url, "prune", "sessions", "--older-than", "7d", "--limit", "2",
               "--yes", "--json", "--csv", str(out), "--reason", "cleanup")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert {"run_id", "entity", "count", "ids", "deleted", "cutoff"} <= set(doc)
    assert doc["ids"] == [ids[2], ids[1]] and doc["count"] == 2
    rows = list(csv.DictReader(out.open()))
    assert [row["id"] for row in rows] == doc["ids"]
    assert {row["run_id"] for row in rows} == {str(doc["run_id"])}
    assert await count(db, sessions) == 1

    r = await cli(database_url, "history", "--json")
    (run,) = json.loads(r.stdout)["runs"]
    assert (run["operator"], run["reason"], run["count"]) == ("cli-test", "cleanup", 2)
    r = await cli(database_url, "export", str(doc["run_id"]))
    assert [row["id"] for row in csv.DictReader(r.stdout.splitlines())] == doc["ids"]


async def test_dry_run_changes_nothing(db, database_url):
    await add_session(db, age_days=30)
    r = await cli(database_url, "prune", "sessions", "--older-than", "7d", "--dry-run", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["dry_run"] and doc["count"] == 1
    assert await count(db, sessions) == 1


async def test_ids_from_a_file_or_an_exported_csv(db, database_url, tmp_path):
    old = str(await add_session(db, age_days=30))
    young = str(await add_session(db, age_days=1))
    ids = tmp_path / "ids.txt"
    ids.write_text(f"{old}\n{young}\n\n")
    r = await cli(database_url, "prune", "sessions", "--older-than", "7d", "--ids-from",
               str(ids), "--yes", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["ids"] == [old] and doc["skipped"] == [young]
    exported = tmp_path / "exported.csv"
    exported.write_text(f"run_id,entity,id,pruned_at\n1,sessions,{young},x\n")
    r = await cli(database_url, "prune", "sessions", "--older-than", "1h", "--ids-from",
               str(exported), "--yes", "--json")
    assert json.loads(r.stdout)["ids"] == [young]


async def test_confirmation_on_a_terminal(db, database_url):
    await add_session(db, age_days=30)
    r = on_a_terminal(database_url, "prune", "sessions", "--older-than", "7d",
                        stdin="vfolders\n")
    assert r.returncode == 1 and "not confirmed" in r.stderr
    assert await count(db, sessions) == 1
    r = on_a_terminal(database_url, "prune", "sessions", "--older-than", "7d",
                        stdin="sessions\n")
    assert r.returncode == 0, r.stderr
    assert "About to delete 1 of 1 sessions" in r.stderr
    assert await count(db, sessions) == 0


async def test_no_terminal_and_no_yes_refuses(db, database_url):
    await add_session(db, age_days=30)
    r = await cli(database_url, "prune", "sessions", "--older-than", "7d")
    assert r.returncode == 2 and "without --yes" in r.stderr
    assert await count(db, sessions) == 1


async def test_drain_json(db, database_url, tmp_path):
    await add_logs(db, [10 + i for i in range(25)])
    out = tmp_path / "drain.csv"
    r = await cli(database_url, "drain", "audit_logs", "--older-than", "1d", "--batch-size", "10",
               "--yes", "--json", "--csv", str(out))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert (doc["count"], doc["batches"], doc["stopped"]) == (25, 3, "done")
    assert len(list(csv.DictReader(out.open()))) == 25
    assert await count(db, audit_logs) == 0


@pytest.mark.parametrize("args, message", [
    (["prune", "sessions", "--yes"], "cutoff is required"),
    (["prune", "sessions", "--before", "2020-01-01", "--yes"], "no timezone"),
    (["prune", "sessions", "--before", "yesterday", "--yes"], "not an ISO 8601"),
    (["prune", "sessions", "--before", "2999-01-01T00:00:00Z", "--yes"], "future"),
    (["prune", "sessions", "--older-than=-3d", "--yes"], "positive duration"),
    (["prune", "sessions", "--older-than", "1d", "--limit", "0", "--yes"], "positive whole"),
    (["prune", "sessions", "--older-than", "1d", "--limit", "100001", "--yes"], "between 1"),
    (["prune", "sessions'; DROP TABLE sessions; --", "--older-than", "1d", "--yes"],
     "unknown entity"),
    (["prune", "sessions", "--older-than", "1d", "--ids-from", "/nope", "--yes"], "--ids-from"),
    (["export", "abc"], "positive whole"),
    (["frobnicate"], "invalid choice"),
])
async def test_bad_usage_is_one_line_and_exit_2(db, database_url, args, message):
    await add_session(db, age_days=30)
    r = await cli(database_url, *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert await count(db, sessions) == 1


async def test_a_failed_prune_exits_1(db, database_url, pg_cluster):
    r = await cli(database_url.replace(pg_cluster.password, "wrong"), "prune", "sessions",
               "--older-than", "1d", "--yes")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "password" in r.stderr and pg_cluster.password not in r.stderr


def test_the_console_script_is_installed():
    exe = Path(sys.executable).with_name("pruner")
    r = subprocess.run([str(exe), "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "preview" in r.stdout
