"""Pruner operator console: `streamlit run console/app.py` (or `pruner console` for the demo).

This entry script resolves configuration and the operator, then hands over to the page the
navigation selects. Pages live in console/views/ and stay thin: they call `core` through the
runtime in console/runtime.py.
"""

from __future__ import annotations

from typing import Any, NoReturn

import streamlit as st

from console import confirm, context
from console.access import SIGNED_IN, Access, resolve_access, sign_out
from console.settings import ConsoleSettings, current_settings
from console.state import Keys
from console.widgets import keep_shared_widget_state
from core import errors, journal, registry
from core.db import redact

st.set_page_config(page_title="Pruner console", page_icon=":material/content_cut:",
                   layout="wide")


def no_database() -> NoReturn:
    st.title("Pruner console")
    st.error("No database is configured. Set PRUNER_DATABASE_URL, or `[database] url` in "
             ".streamlit/secrets.toml (see .streamlit/secrets.example.toml). "
             "`pruner console` without either starts a local demo database.")
    st.stop()


def sidebar(settings: ConsoleSettings, access: Access) -> None:
    with st.sidebar:
        if settings.demo:
            st.badge("Demo database", icon=":material/science:", color="violet")
        if settings.read_only:
            st.badge("Read-only", icon=":material/lock:", color="orange")
        assert settings.database_url
        st.caption(f"Database: `{redact(settings.database_url)}`")
        if access.operator:
            role = f" ({access.role})" if access.role and settings.sign_in in SIGNED_IN else ""
            st.caption(f"Operator: **{access.operator}**{role}")
        if access.notice:
            st.caption(access.notice)
        if access.operator and settings.sign_in in SIGNED_IN:
            st.button("Sign out", on_click=sign_out, args=(settings,), type="tertiary",
                      icon=":material/logout:")


def running_drains(ctx: context.ConsoleContext, drain_page: Any) -> None:
    """On every page: drains running now (started anywhere), with the way to stop them."""
    try:
        running = ctx.call(lambda db: journal.drains.listing(db, running=True),
                           "reading the running drains")
    except errors.PrunerError:
        return  # the page itself will say what is wrong with the database
    if running:
        with st.sidebar:
            st.warning(f"{len(running):,} drain{'s' if len(running) > 1 else ''} running: "
                       + ", ".join(f"{d.entity} (by {d.operator})" for d in running),
                       icon=":material/water_drop:")
            st.page_link(drain_page, label="See or stop on the Drain page",
                         icon=":material/stop_circle:")


def main() -> None:
    context.configure_logging()
    try:
        settings = current_settings()
    except errors.PrunerError as exc:
        context.show_error(exc)
        st.stop()
    if not settings.database_url:
        no_database()
    access = resolve_access(settings)  # draws the sign-in step and stops, when one is due
    try:
        registry.load_modules(settings.core.modules)  # a broken user module: say which, why
        runtime = context.shared_runtime(settings.database_url)
    except Exception as exc:  # a bad URL: the message, never the URL
        context.show_error(exc, settings)
        st.stop()
    ctx = context.ConsoleContext(settings, access, runtime)
    st.session_state[Keys.CONTEXT] = ctx
    keep_shared_widget_state(settings.core.prune.max_limit)
    sidebar(settings, access)
    drain_page = st.Page("views/drain.py", title="Drain", icon=":material/water_drop:")
    page = st.navigation([
        st.Page("views/candidates.py", title="Candidates", icon=":material/delete_sweep:",
                default=True),
        drain_page,
        st.Page("views/history.py", title="History", icon=":material/history:"),
        st.Page("views/database.py", title="Database", icon=":material/database:"),
    ])
    running_drains(ctx, drain_page)
    if st.session_state.get(Keys.PAGE) != page.url_path:
        # A dialog belongs to the page it was opened on; leaving the page cancels it.
        st.session_state[Keys.PAGE] = page.url_path
        confirm.cancel()
    try:
        page.run()
    except Exception as exc:  # a bug must still be a message (logged in full), not a traceback
        context.show_error(exc, settings)


main()
