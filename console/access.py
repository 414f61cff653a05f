"""Who is operating the console and whether they may prune.

    [auth] in secrets        -> OIDC sign-in with st.login; the operator is the signed-in user
    a console password       -> sign-in form (name + password, compared with hmac.compare_digest)
    neither, demo mode       -> anyone on this machine may prune, as "demo"
    neither, not demo        -> preview and history only
    read-only (env/secret)   -> preview and history only, whoever signs in

The decision is a plain value (`Access`) that every code path that changes data checks again
(`console.actions`), so hiding a button is never the only guard.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import streamlit as st

from console.settings import PASSWORD_ENV, READ_ONLY_ENV, ConsoleSettings
from console.state import Keys

DEMO_OPERATOR = "demo@console"
MAX_NAME = 64
_PROCESS_KEY = secrets.token_bytes(32)  # fingerprints of the password never leave this process


@dataclass(frozen=True)
class Access:
    operator: str | None  # recorded in the journal for every run
    can_prune: bool
    notice: str | None = None  # why pruning is off, shown on every page


def password_matches(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _fingerprint(password: str) -> str:
    """Which password a session signed in with: changing the password signs everyone out."""
    return hmac.new(_PROCESS_KEY, password.encode("utf-8"), hashlib.sha256).hexdigest()


def decide(settings: ConsoleSettings, operator: str | None) -> Access:
    """The pure policy, once the operator (if any) is known."""
    if settings.read_only:
        return Access(operator, False,
                      f"Read-only mode ({READ_ONLY_ENV} or [console] read_only): preview and "
                      "history only.")
    if operator is None:
        return Access(None, False,
                      "No console password is configured, so pruning is disabled: set "
                      f"[console] password in .streamlit/secrets.toml or {PASSWORD_ENV}. "
                      "Preview and history stay available.")
    return Access(operator, True)


def _submit_sign_in(expected: str) -> None:
    """Form callback: runs before the script, so a good sign-in shows the console at once."""
    name = str(st.session_state.get(Keys.SIGN_IN_NAME) or "").strip()
    given = str(st.session_state.get(Keys.SIGN_IN_PASSWORD) or "")
    if not name:
        st.session_state[Keys.SIGN_IN_ERROR] = "Enter your name: it is recorded with every run."
    elif not password_matches(given, expected):
        st.session_state[Keys.SIGN_IN_ERROR] = "Wrong password."
    else:
        st.session_state[Keys.OPERATOR] = f"{name[:MAX_NAME]}@console"
        st.session_state[Keys.SIGNED_IN_WITH] = _fingerprint(expected)
        st.session_state.pop(Keys.SIGN_IN_ERROR, None)


def _password_form(expected: str) -> None:
    st.title("Pruner console")
    st.write("Sign in to browse and prune candidates.")
    # clear_on_submit: the typed password does not outlive the submit, right or wrong
    with st.form("sign_in", clear_on_submit=True):
        st.text_input("Your name", key=Keys.SIGN_IN_NAME, max_chars=MAX_NAME)
        st.text_input("Console password", type="password", key=Keys.SIGN_IN_PASSWORD)
        st.form_submit_button("Sign in", type="primary", on_click=_submit_sign_in,
                              args=(expected,), key="sign_in.submit")
    if error := st.session_state.get(Keys.SIGN_IN_ERROR):
        st.error(error)


def _oidc_operator() -> str | None:
    user = st.user
    if not user.is_logged_in:
        return None
    for claim in ("email", "preferred_username", "name", "sub"):
        value = user.get(claim)
        if value:
            return str(value)[:MAX_NAME]
    return "signed-in user"


def resolve_access(settings: ConsoleSettings) -> Access:
    """Render the sign-in step if one is due (and stop the run there), else return the access."""
    if settings.oidc:
        operator = _oidc_operator()
        if operator is None:
            st.title("Pruner console")
            st.write("Sign in with your organisation's account to continue.")
            st.button("Log in", type="primary", on_click=st.login)
            st.stop()
        return decide(settings, operator)
    if settings.console_password:
        if st.session_state.get(Keys.SIGNED_IN_WITH) != _fingerprint(settings.console_password):
            st.session_state.pop(Keys.OPERATOR, None)
        operator = st.session_state.get(Keys.OPERATOR)
        if operator is None:
            _password_form(settings.console_password)
            st.stop()
        return decide(settings, operator)
    return decide(settings, DEMO_OPERATOR if settings.demo else None)


def sign_out(settings: ConsoleSettings) -> None:
    st.session_state.pop(Keys.OPERATOR, None)
    st.session_state.pop(Keys.SIGNED_IN_WITH, None)
    if settings.oidc:
        st.logout()
