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


def start_console(demo_dir: Path) -> tuple[subprocess.Popen[str], int]:
    """`python -m console` on the demo cluster under `demo_dir`, once it answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRUNER_")}
    env.update(PRUNER_DEMO_DIR=str(demo_dir / "pg"), HOME=str(demo_dir))
    proc = subprocess.Popen(
        [sys.executable, "-m", "console", "--port", str(port), "--demo-sessions", "300"],
        cwd=launcher.PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not answers(port):
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "the console did not come up"
            time.sleep(0.3)
    except BaseException:
        stop_console(proc)
        raise
    return proc, port


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def stop_console(proc: subprocess.Popen[str]) -> str:
    """Stop it as Ctrl-C / SIGTERM would; what it printed."""
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode in (0, 128 + signal.SIGTERM), out
    return out


def run_console(demo_dir: Path) -> str:
    """Run the launcher until the console answers, then stop it like Ctrl-C / SIGTERM would."""
    proc, _ = start_console(demo_dir)
    try:
        cluster = LocalCluster(demo_dir / "pg")
        assert cluster.psql("SELECT count(*) FROM sessions", "pruner_demo") == "300"
    finally:
        out = stop_console(proc)
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


@pytest.mark.skipif(launcher.secrets_database_url(launcher.PROJECT_ROOT) is not None,
                    reason="this checkout's .streamlit/secrets.toml configures a database")
def test_two_consoles_share_the_demo_and_never_stop_each_others(demo_dir: Path) -> None:
    """Issue 12, case 18: a second console reuses the running demo without owning it; stopping
    either one leaves the database the other uses running; the last one out stops it."""
    cluster = LocalCluster(demo_dir / "pg")
    second: subprocess.Popen[str] | None = None
    first, first_port = start_console(demo_dir)
    try:
        second, second_port = start_console(demo_dir)
        out = stop_console(second)
        assert "the demo database was running already" in out
        assert "demo database left running" in out and "demo database stopped" not in out
        assert cluster.psql("SELECT count(*) FROM sessions", "pruner_demo") == "300", \
            "the first console's PostgreSQL still answers"
        assert answers(first_port) and not answers(second_port)

        # the other way round: the one that started it leaves first
        second, _ = start_console(demo_dir)
        out = stop_console(first)
        assert "demo database left running" in out, "another console still uses it"
        assert cluster.psql("SELECT 1", "pruner_demo") == "1"
        out = stop_console(second)
        assert "demo database stopped" in out, "the last one out stops what a console started"
        assert not cluster.is_running()
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                stop_console(proc)


def test_a_demo_started_by_hand_is_left_running(demo_dir: Path) -> None:
    """A cluster running before any console leased it is not a console's to stop."""
    cluster = LocalCluster(demo_dir / "pg")
    cluster.start()
    assert cluster.acquire(pid=os.getpid()) is False
    assert cluster.release(pid=os.getpid()) is False
    assert cluster.is_running()


def test_a_lease_of_a_dead_process_does_not_keep_the_demo(demo_dir: Path) -> None:
    cluster = LocalCluster(demo_dir / "pg")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert cluster.acquire(pid=os.getpid()) is True
    assert cluster.acquire(pid=gone.pid) is False  # a holder that died without releasing
    assert cluster.release(pid=os.getpid()) is True, "a dead holder's lease does not count"
    assert not cluster.is_running()
