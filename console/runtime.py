"""One long-lived asyncio loop per process, in a daemon thread, owning the AsyncEngine.

Streamlit runs every script in its own thread and reruns it constantly; an engine is bound to the
loop its connections were made on. So the console never calls `asyncio.run`: a page hands a
coroutine to `Runtime.run`, which schedules it on the background loop and waits for the result.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import create_engine

T = TypeVar("T")

CONNECT_TIMEOUT_S = 10  # a page must fail with a message, not hang, when the database is gone


class Runtime:
    """The background loop and the engine that lives on it."""

    def __init__(self, database_url: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="pruner-console-loop",
                                        daemon=True)
        self._thread.start()
        try:
            self.engine: AsyncEngine = self.run(self._create_engine(database_url))
        except BaseException:
            self._stop_loop()
            raise

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    @staticmethod
    async def _create_engine(url: str) -> AsyncEngine:
        # Created on the loop that will use it (asyncpg connections belong to one loop).
        return create_engine(url, pool_size=5, max_overflow=5,
                             connect_args={"timeout": CONNECT_TIMEOUT_S})

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule `coro` on the background loop; the caller decides when to wait."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `coro` on the background loop and wait for its result (or its exception)."""
        return self.submit(coro).result(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self._loop.is_closed()

    def close(self) -> None:
        """Dispose of the engine and stop the loop (tests and process exit)."""
        if not self.alive:
            return
        try:
            self.run(self.engine.dispose(), timeout=10)
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


_lock = threading.Lock()
_runtimes: dict[str, Runtime] = {}


def runtime_for(database_url: str) -> Runtime:
    """The process-wide runtime of a database URL, created on first use.

    Also reachable through `shared_runtime` (st.cache_resource); this registry is what lets
    tests close every runtime at the end of a session.
    """
    with _lock:
        rt = _runtimes.get(database_url)
        if rt is None or not rt.alive:
            rt = _runtimes[database_url] = Runtime(database_url)
        return rt


def close_all() -> None:
    with _lock:
        runtimes = list(_runtimes.values())
        _runtimes.clear()
    for rt in runtimes:
        rt.close()
