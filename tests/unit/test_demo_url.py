"""The demo database's URL, password included, is written to .pruner/demo-url, mode 0600
(issue 12, case 12): the launcher's log masks the password and names this file."""

from __future__ import annotations

import stat
from pathlib import Path

from core.demo.seed import write_demo_url

URL = "postgresql+asyncpg://postgres:s3cret-pw@127.0.0.1:5999/pruner_demo"


def test_the_demo_url_file_holds_the_password_and_only_its_owner_reads_it(tmp_path: Path,
                                                                            monkeypatch):
    monkeypatch.delenv("PRUNER_DEMO_DIR", raising=False)
    path = write_demo_url(tmp_path, URL)
    assert path == tmp_path / ".pruner" / "demo-url"
    assert path.read_text().strip() == URL
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)  # a second start rewrites it, and tightens it again
    write_demo_url(tmp_path, URL.replace("5999", "6000"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "6000" in path.read_text()


def test_a_moved_demo_cluster_keeps_its_url_beside_it(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PRUNER_DEMO_DIR", str(tmp_path / "elsewhere" / "pg"))
    path = write_demo_url(tmp_path / "project", URL)
    assert path == tmp_path / "elsewhere" / "demo-url"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_readme_names_the_file():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert ".pruner/demo-url" in readme
