"""Browser end-to-end fixtures: their own PostgreSQL cluster, a real `streamlit run`, Chromium.

Everything here is synchronous: Playwright's sync API runs its own loop in this thread, so the
one async step (seeding) runs `asyncio.run` in a worker thread and leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from core.demo.cluster import LocalCluster
from tests.e2e.harness import (
    ACCOUNT,
    ACCOUNT_PASSWORD,
    CHROMIUM,
    CHROMIUM_ARGS,
    CONFIRM_ABOVE,
    DATABASE,
    ROOT,
    SCREENSHOTS,
    Database,
)


async def _seed(url: str, sessions: int) -> None:
    from core import create_engine
    from core.demo.seed import seed

    engine = create_engine(url)
    try:
        await seed(engine, sessions=sessions)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def e2e_database() -> Iterator[Database]:
    base = Path(tempfile.mkdtemp(prefix="pruner-e2e-"))
    os.chmod(base, 0o755)  # the postgres OS user must traverse it when we run as root
    cluster = LocalCluster(base / "pg")
    cluster.start()
    try:
        url = cluster.create_database(DATABASE)
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _seed(url, sessions=2_000)).result()
        yield Database(cluster, url)
    finally:
        cluster.destroy()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("streamlit did not become healthy")


@contextlib.contextmanager
def _streamlit(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """`streamlit run console/app.py` with `env` (no inherited PRUNER_* variable); its URL."""
    port = _free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PRUNER_")}, **env}
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "console" / "app.py"),
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(proc, url)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def console_url(e2e_database: Database, tmp_path_factory: pytest.TempPathFactory,
                ) -> Iterator[str]:
    env = dict(PRUNER_DATABASE_URL=e2e_database.url, PRUNER_DEMO="1",
               PRUNER_CONFIRM_ABOVE=str(CONFIRM_ABOVE))
    with _streamlit(env, tmp_path_factory.mktemp("streamlit") / "server.log") as url:
        yield url


@contextlib.contextmanager
def _accounts_server(database: Database, base: Path) -> Iterator[tuple[str, Path]]:
    """The console with operator accounts (ACCOUNT may prune); its URL and server log."""
    from console import accounts

    users = base / "users.toml"
    accounts.write_accounts(users, {ACCOUNT: accounts.Account(
        ACCOUNT, "prune", accounts.hash_password(ACCOUNT_PASSWORD))})
    env = dict(PRUNER_DATABASE_URL=database.url, PRUNER_CONSOLE_USERS_FILE=str(users))
    with _streamlit(env, base / "server.log") as url:
        yield url, base / "server.log"


@pytest.fixture(scope="session")
def accounts_console(e2e_database: Database, tmp_path_factory: pytest.TempPathFactory,
                     ) -> Iterator[tuple[str, Path]]:
    """The console with operator accounts (ACCOUNT may prune); its URL and server log."""
    with _accounts_server(e2e_database, tmp_path_factory.mktemp("accounts")) as found:
        yield found


@pytest.fixture
def throttled_console(e2e_database: Database, tmp_path_factory: pytest.TempPathFactory,
                      ) -> Iterator[tuple[str, Path]]:
    """Another accounts console, a server of its own: its sign-in throttle (kept in the server
    process) starts empty and no other test's failures count against it."""
    with _accounts_server(e2e_database, tmp_path_factory.mktemp("throttled")) as found:
        yield found


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (scripts/setup.sh --browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1100},
                                  accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture
def shoot(page: Page) -> Callable[[str], Path]:
    """shoot("name") saves artifacts/screenshots/NN-name.png (git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    taken = []

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{len(taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path))
        taken.append(path)
        return path

    return take
