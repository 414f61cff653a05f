"""What every page needs for one run: settings, the operator's access, and the runtime.

`app.py` builds it once per run and keeps it in session state; pages read it with `current()`.
Every database call goes through `call` (core turns driver errors into `PrunerError`s); every
error a page shows goes through `show_error`, usually by way of `ConsoleContext.attempt`.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import streamlit as st
from sqlalchemy.ext.asyncio import AsyncEngine

from console.access import Access
from console.runtime import Runtime, runtime_for
from console.settings import ConsoleSettings
from console.settings import scrub as scrub_secrets
from console.state import Keys
from core import errors

T = TypeVar("T")
log = logging.getLogger("pruner.console")

DbCall = Callable[[AsyncEngine], Coroutine[Any, Any, T]]


def call(runtime: Runtime, fn: DbCall[T], doing: str) -> T:
    """Run `fn(engine)` on the runtime. Core raises PrunerErrors only; a runtime that cannot
    answer in time is one too."""
    try:
        return runtime.run(fn(runtime.engine))
    except TimeoutError as exc:
        raise errors.DatabaseUnavailable(f"{doing} failed: no answer in time") from exc


@st.cache_resource(show_spinner=False, validate=lambda rt: rt.alive)
def shared_runtime(database_url: str) -> Runtime:
    """One runtime (loop thread + engine) per database per process."""
    return runtime_for(database_url)


@dataclass(frozen=True)
class ConsoleContext:
    settings: ConsoleSettings
    access: Access
    runtime: Runtime

    @property
    def database_url(self) -> str:
        url = self.settings.database_url
        assert url is not None  # app.py stops before it builds a context without one
        return url

    def call(self, fn: DbCall[T], doing: str) -> T:
        return call(self.runtime, fn, doing)

    def attempt(self, fn: Callable[[], T]) -> T | None:
        """`fn()`, or None after showing its PrunerError on the page (the one way pages show
        an error they can go on from)."""
        try:
            return fn()
        except errors.PrunerError as exc:
            show_error(exc, self.settings)
            return None

    def fetch(self, fn: DbCall[T], doing: str) -> T | None:
        """`call`, or None after showing why it failed."""
        return self.attempt(lambda: self.call(fn, doing))

    def scrub(self, message: str) -> str:
        return scrub(message, self.settings)


def scrub(message: str, settings: ConsoleSettings | None) -> str:
    """`console.settings.scrub`: URLs redacted, configured secrets masked."""
    return scrub_secrets(message, settings)


def configure_logging() -> None:
    """Send the console's log lines (sign-ins and their failures on "pruner.console.auth",
    unexpected errors on "pruner.console") to the server's stderr at INFO, unless the
    deployment configured logging itself. Idempotent: app.py calls it on every run."""
    if log.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def current() -> ConsoleContext:
    ctx = st.session_state.get(Keys.CONTEXT)
    if not isinstance(ctx, ConsoleContext):
        st.error("Open the console through its main script: streamlit run console/app.py")
        st.stop()
    return ctx


def show_error(exc: BaseException, settings: ConsoleSettings | None = None) -> None:
    """An operator-facing message, never a traceback. Unexpected errors are logged in full."""
    if isinstance(exc, errors.PrunerError):
        message = str(exc)
    else:
        details = "".join(traceback.format_exception(exc))
        log.error("unexpected console error: %s", scrub(details, settings))
        message = f"Unexpected error ({type(exc).__name__}): {exc}. Details are in the server log."
    st.error(scrub(message, settings), icon=":material/error:")
