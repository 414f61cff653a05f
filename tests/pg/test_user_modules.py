"""The README's PRUNER_MODULES example, run exactly as written there."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example() -> str:
    text = README.read_text()
    m = re.search(r"<!-- user-pruner-example -->\s*```python\n(.*?)```", text, re.S)
    assert m, "the README lost its PRUNER_MODULES example"
    return m.group(1)


async def test_the_readme_example_registers_and_prunes_a_user_table(db, database_url, tmp_path):
    (tmp_path / "my_pruners.py").write_text(readme_example())
    async with db.begin() as conn:
        await conn.execute(sa.text(
            "CREATE TABLE IF NOT EXISTS job_runs (id bigint PRIMARY KEY, state text NOT NULL, "
            "finished_at timestamptz)"))
        await conn.execute(sa.text("TRUNCATE job_runs"))
        await conn.execute(sa.text(
            "INSERT INTO job_runs VALUES (1, 'done', now() - interval '40 days'), "
            "(2, 'running', now() - interval '40 days'), (3, 'failed', now() - interval '1 day'),"
            " (4, 'failed', NULL)"))
    env = {**os.environ, "PRUNER_DATABASE_URL": database_url, "PRUNER_MODULES": "my_pruners",
           "PYTHONPATH": str(tmp_path)}

    def cli(*args: str) -> dict:
        r = subprocess.run([sys.executable, "-m", "core", *args, "--json"], env=env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    assert "job_runs" in [p["name"] for p in cli("list")["pruners"]]
    assert cli("preview", "job_runs", "--older-than", "30d")["candidates"] == 1
    assert cli("prune", "job_runs", "--older-than", "30d", "--yes")["ids"] == [1]
    async with db.connect() as conn:
        left = (await conn.execute(sa.text("SELECT id FROM job_runs ORDER BY id"))).scalars()
        assert list(left) == [2, 3, 4]
        await conn.execute(sa.text("DROP TABLE job_runs"))
        await conn.commit()


def test_a_broken_user_module_is_a_clear_error(database_url, tmp_path):
    (tmp_path / "broken.py").write_text("raise RuntimeError('oops')\n")
    env = {**os.environ, "PRUNER_DATABASE_URL": database_url, "PRUNER_MODULES": "broken",
           "PYTHONPATH": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "core", "list"], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1 and "could not import 'broken'" in r.stderr
    assert "Traceback" not in r.stderr
