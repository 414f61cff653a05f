"""`pruner console` / `python -m console`: the embedded demo in one command, reused on re-run."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from console import launcher
from core.demo.cluster import LocalCluster
from core.errors import InvalidArgument


def test_streamlit_listens_on_localhost_by_default() -> None:
    args, extra = launcher.parse_args(["--port", "8600"])
    cmd = launcher.streamlit_command(args, extra, {})
    assert cmd[:5] == [sys.executable, "-m", "streamlit", "run", str(launcher.APP)]
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--server.port") + 1] == "8600"
    args, extra = launcher.parse_args(["--server.address=0.0.0.0"])
    cmd = launcher.streamlit_command(args, extra, {})
    assert cmd.count("--server.address") == 0 and "--server.address=0.0.0.0" in cmd
    args, extra = launcher.parse_args([])
    cmd = launcher.streamlit_command(args, extra, {launcher.ADDRESS_ENV: "10.0.0.5"})
    assert cmd[cmd.index("--server.address") + 1] == "10.0.0.5"


def test_database_configured(tmp_path: Path) -> None:
    assert launcher.database_configured({"PRUNER_DATABASE_URL": "postgresql://x/y"}, tmp_path)
    (tmp_path / ".streamlit").mkdir()
    secrets = tmp_path / ".streamlit" / "secrets.toml"
    secrets.write_text('[console]\npassword = "x"\n')
    assert launcher.secrets_database_url(tmp_path) is None
    secrets.write_text('[database]\nurl = "postgresql://u:p@h/db"\n')
    assert launcher.secrets_database_url(tmp_path) == "postgresql://u:p@h/db"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def demo_dir() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="pruner-launcher-"))
    os.chmod(base, 0o755)  # the postgres OS user must reach it when we run as root
    yield base
    LocalCluster(base / "pg").destroy()


def run_console(demo_dir: Path) -> str:
    """Run the launcher until the console answers, then stop it like Ctrl-C / SIGTERM would."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRUNER_")}
    env.update(PRUNER_DEMO_DIR=str(demo_dir / "pg"), HOME=str(demo_dir))
    proc = subprocess.Popen(
        [sys.executable, "-m", "console", "--port", str(port), "--demo-sessions", "300"],
        cwd=launcher.PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "the console did not come up"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                            timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        cluster = LocalCluster(demo_dir / "pg")
        assert cluster.psql("SELECT count(*) FROM sessions", "pruner_demo") == "300"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode in (0, 128 + signal.SIGTERM), out
    return out


@pytest.mark.skipif(launcher.secrets_database_url(launcher.PROJECT_ROOT) is not None,
                    reason="this checkout's .streamlit/secrets.toml configures a database")
def test_demo_in_one_command_and_reused(demo_dir: Path) -> None:
    first = run_console(demo_dir)
    assert "seeded 300 demo sessions" in first
    assert "demo database stopped" in first
    assert not LocalCluster(demo_dir / "pg").is_running(), "the cluster stops with the console"
    assert "***" in first and LocalCluster(demo_dir / "pg").password not in first
    url_file = demo_dir / "demo-url"  # beside the cluster that PRUNER_DEMO_DIR moved
    assert f"with its password in {url_file}" in first
    assert url_file.read_text().strip() == LocalCluster(demo_dir / "pg").url("pruner_demo")

    second = run_console(demo_dir)
    assert "seeded" not in second, "a second run reuses the data"


def test_bad_settings_refuse_to_start_before_anything_runs(tmp_path: Path) -> None:
    """A placeholder password or a read-only flag that does not parse: exit 2 with the reason,
    no demo cluster started, no server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRUNER_")}
    env.update(PRUNER_DEMO_DIR=str(tmp_path / "pg"), HOME=str(tmp_path))
    for bad, reason in ((dict(PRUNER_CONSOLE_PASSWORD="Please-ChangeMe"), "is a placeholder"),
                        (dict(PRUNER_READ_ONLY="enabled"), "PRUNER_READ_ONLY must be one of")):
        done = subprocess.run([sys.executable, "-m", "console", "--port", str(free_port())],
                              cwd=launcher.PROJECT_ROOT, env={**env, **bad},
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "pruner console: refusing to start: " in done.stderr and reason in done.stderr
        assert "Please-ChangeMe" not in done.stderr, "the value itself is never echoed"
        assert not (tmp_path / "pg").exists(), "no demo cluster was started"


def test_check_settings_reads_the_project_secrets(tmp_path: Path) -> None:
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text('[console]\nread_only = "Y"\n')
    with pytest.raises(InvalidArgument, match=r"\[console\] read_only must be one of"):
        launcher.check_settings({}, tmp_path)
    (tmp_path / ".streamlit" / "secrets.toml").write_text('[console]\nread_only = true\n')
    launcher.check_settings({}, tmp_path)
