"""Issue 12, case 17: the notebook deletes only from the demo database or from the database its
reader names in CONFIRM_DATABASE; it awaits at the top level and never calls asyncio.run.
(`pytest --nbmake console/notebook.ipynb` runs it on the demo, where it may delete.)"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest
import sqlalchemy as sa
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from core import create_engine, journal
from core.demo.cluster import LocalCluster

pytestmark = pytest.mark.timeout(600)

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "console" / "notebook.ipynb"
DATABASE = "pruner_nb_guard"
GUARD = "CONFIRM_DATABASE = None"


def code_cells() -> list[str]:
    return [c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells
            if c.cell_type == "code"]


def test_top_level_await_and_no_asyncio_run() -> None:
    sources = code_cells()
    assert not any("asyncio.run" in s or "get_event_loop" in s for s in sources)
    assert any(line.startswith("await ") or " = await " in line
               for s in sources for line in s.splitlines())
    guard = [s for s in sources if GUARD in s]
    assert len(guard) == 1, "one cell holds the confirmation variable, unset"
    deleting = [s for s in sources if "await prune(" in s]
    assert deleting and all("may_delete()" in s.split("await prune(")[0] for s in deleting), \
        "the cell that deletes asks first"
    for s in sources:  # every cell is Python (top-level await aside)
        ast.parse(s.replace("await ", "").replace("async with", "with"))


@pytest.fixture(scope="module")
def nb_url(pg_cluster: LocalCluster) -> str:
    return pg_cluster.create_database(DATABASE)


def execute(url: str, confirm: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the whole notebook on `url` (not the demo), with CONFIRM_DATABASE = `confirm`."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and GUARD in cell.source:
            cell.source = cell.source.replace(GUARD, f"CONFIRM_DATABASE = {confirm!r}")
    for var in ("PRUNER_MODULES", "PRUNER_DEMO", "PRUNER_MAX_LIMIT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PRUNER_DATABASE_URL", url)  # the kernel inherits this process's env
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()


async def sessions_and_prunes(url: str) -> tuple[int, int]:
    """Sessions in the database (3,000 before the notebook's first run seeds it) and prunes in
    its journal."""
    from core.demo.seed import is_seeded

    engine = create_engine(url)
    try:
        if not await is_seeded(engine):
            return 3_000, 0
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.text("SELECT count(*) FROM sessions"))).scalar_one()
        pruned = await journal.history(engine, kind="prune", status="succeeded")
        return int(rows), len(pruned)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("confirm", [None, "backend", DATABASE.upper()])
async def test_it_refuses_to_delete_from_a_database_it_was_not_given(
        nb_url: str, monkeypatch: pytest.MonkeyPatch, confirm: str | None) -> None:
    before = await sessions_and_prunes(nb_url)
    with pytest.raises(CellExecutionError) as info:
        execute(nb_url, confirm, monkeypatch)
    said = str(info.value)
    assert f"refusing to delete rows in {DATABASE!r}: it is not the demo database" in said
    assert f"CONFIRM_DATABASE = {DATABASE!r}" in said, "it says how to go on"
    assert await sessions_and_prunes(nb_url) == before, "nothing was deleted"


async def test_it_deletes_once_the_database_is_named(nb_url: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    rows, prunes = await sessions_and_prunes(nb_url)
    execute(nb_url, DATABASE, monkeypatch)
    assert await sessions_and_prunes(nb_url) == (rows - 200, prunes + 1)
