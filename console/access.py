"""Who is operating the console and whether they may prune.

    [auth] in secrets      -> OIDC sign-in (st.login); the [console.oidc] allow-list decides the
                              role; a verified email is required. Journal: "oidc:<email>"
    the users file         -> per-operator name + password, checked against argon2 hashes;
                              the account's role decides. Journal: "account:<name>"
    a console password     -> one shared password; the typed name is only a label.
                              Journal: "shared-password:<typed name>"
    none of these, demo    -> anyone on this machine may prune, as "demo@console"
    none of these          -> preview and history only
    read-only (env/secret) -> preview and history only, whoever signs in

Password sign-ins are throttled per client address and per account (console.throttle) and every
failure is logged on the "pruner.console.auth" logger, never with the password.

The decision is a plain value (`Access`) that every code path that changes data checks again
(`console.actions`), so hiding a button is never the only guard.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from console.accounts import ROLE_PRUNE, ROLE_READ, normalize_name, verify
from console.settings import (
    MODE_ACCOUNTS,
    MODE_DEMO,
    MODE_OIDC,
    MODE_SHARED,
    PASSWORD_ENV,
    READ_ONLY_ENV,
    ConsoleSettings,
    OidcPolicy,
)
from console.state import Keys
from console.throttle import Throttle, Verdict

log = logging.getLogger("pruner.console.auth")

DEMO_OPERATOR = "demo@console"
ACCOUNT_PREFIX = "account:"
OIDC_PREFIX = "oidc:"
SHARED_PREFIX = "shared-password:"
MAX_NAME = 64
TYPED_NAME = re.compile(r"[\w .@-]{1,64}")  # the label typed in shared-password mode
SHARED_KEY = "account:(shared password)"  # every shared-password attempt counts against it
UNKNOWN_KEY = "account:(unknown)"  # unknown account names share one throttle key
SIGNED_IN = (MODE_OIDC, MODE_ACCOUNTS, MODE_SHARED)

THROTTLE = Throttle()  # process-wide: every session of this server counts against it
_PROCESS_KEY = secrets.token_bytes(32)  # fingerprints of credentials never leave this process


@dataclass(frozen=True)
class Access:
    operator: str | None  # recorded in the journal for every run
    can_prune: bool
    notice: str | None = None  # why pruning is off, shown on every page
    role: str | None = None


def password_matches(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _fingerprint(*parts: str) -> str:
    """Which credential a session signed in with: changing it signs the session out."""
    return hmac.new(_PROCESS_KEY, "\0".join(parts).encode("utf-8"), hashlib.sha256).hexdigest()


def decide(settings: ConsoleSettings, operator: str | None, role: str = ROLE_PRUNE) -> Access:
    """The pure policy, once the operator (if any) and their role are known."""
    if settings.read_only:
        return Access(operator, False,
                      f"Read-only mode ({READ_ONLY_ENV} or [console] read_only): preview and "
                      "history only.", role)
    if operator is None:
        return Access(None, False,
                      "No sign-in is configured, so pruning is disabled: add operator accounts "
                      "(`pruner console users add NAME --role prune`), configure OIDC, or set "
                      f"[console] password / {PASSWORD_ENV}. Preview and history stay "
                      "available.")
    if role != ROLE_PRUNE:
        return Access(operator, False,
                      f"Your role is {role!r}: preview and history only.", role)
    return Access(operator, True, role=role)


# ------------------------------------------------------------------------------ OIDC
def _claim_set(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, list | tuple | set | frozenset):
        return {str(v) for v in value}
    return set()


def oidc_role(claims: Mapping[str, Any], policy: OidcPolicy) -> tuple[str | None, str]:
    """(the role of a signed-in OIDC user or None, why). Needs a verified email; then the
    `prune_*` lists, then the `read_*` lists, match the email, its domain or a group."""
    email = str(claims.get("email") or "").strip().lower()
    if "@" not in email:
        return None, "the identity provider sent no email address"
    verified = claims.get("email_verified")
    if verified is not True and str(verified).strip().lower() != "true":
        return None, "the identity provider has not verified this email address"
    domain = email.rpartition("@")[2]
    groups = _claim_set(claims.get(policy.groups_claim))
    for role, emails, domains, allowed in (
            (ROLE_PRUNE, policy.prune_emails, policy.prune_domains, policy.prune_groups),
            (ROLE_READ, policy.read_emails, policy.read_domains, policy.read_groups)):
        if email in emails or domain in domains or groups & allowed:
            return role, "allowed"
    return None, "this account is not on the console's allow-list"


def _oidc_access(settings: ConsoleSettings) -> Access:
    user = st.user
    if not user.is_logged_in:
        st.title("Pruner console")
        st.write("Sign in with your organisation's account to continue.")
        st.button("Log in", type="primary", on_click=st.login)
        st.stop()
    claims = user.to_dict()
    email = str(claims.get("email") or "")[:MAX_NAME]
    role, why = oidc_role(claims, settings.oidc_policy)
    _log_once(f"oidc:{email}:{role}", logging.INFO if role else logging.WARNING,
              "console OIDC sign-in %s: %r (%s)", "accepted" if role else "refused", email,
              role or why)
    if role is None:
        st.title("Pruner console")
        st.error(f"You are signed in as {email or 'an account without an email'}, but {why}. "
                 "Ask the console's administrator for access.")
        st.button("Log out", on_click=sign_out, args=(settings,))
        st.stop()
    return decide(settings, f"{OIDC_PREFIX}{email.lower()}", role)


def _log_once(key: str, level: int, message: str, *args: Any) -> None:
    """Log an event of this session once, not on every rerun."""
    seen = st.session_state.setdefault(Keys.SIGN_IN_LOGGED, set())
    if key not in seen:
        seen.add(key)
        log.log(level, message, *args)


# ------------------------------------------------------------------------------ passwords
def client_address() -> str:
    """The client's address as the server sees it (None for localhost). Behind a reverse proxy
    this is the proxy: every client then shares one throttle key."""
    return st.context.ip_address or "localhost"


def _wait_text(seconds: float) -> str:
    if seconds < 90:
        return f"{math.ceil(seconds)} seconds"
    return f"{math.ceil(seconds / 60)} minutes"


def throttled_message(verdict: Verdict) -> str:
    if verdict.locked:
        return ("Sign-in is locked after too many failed attempts: try again in "
                f"{_wait_text(verdict.retry_after)}.")
    return f"Too many failed sign-ins: wait {_wait_text(verdict.retry_after)} and try again."


@dataclass(frozen=True)
class Attempt:
    """What one password sign-in attempt came to."""

    name: str | None = None  # the account / typed name, when it signed in
    credential: str | None = field(default=None, repr=False)  # fingerprinted, never stored
    error: str | None = None  # for the form, when it did not
    checked: bool = False  # whether the password was checked at all (not throttled)


def attempt_sign_in(settings: ConsoleSettings, typed: str, given: str, client: str,
                    throttle: Throttle | None = None) -> Attempt:
    """One password sign-in: throttled per client and per account, every failure logged (never
    the password; in shared mode not the typed name either, in case a password was typed
    there)."""
    throttle = throttle or THROTTLE
    accounts = settings.accounts if settings.sign_in == MODE_ACCOUNTS else None
    if accounts is not None:
        name = normalize_name(typed)
        known = name in accounts
        account_key = f"{ACCOUNT_PREFIX}{name}" if known else UNKNOWN_KEY
        who = name if known else "(unknown account)"
        wrong = "Wrong account name or password."
    else:
        name = typed.strip()
        account_key, who, wrong = SHARED_KEY, "(shared password)", "Wrong password."
    if not name:
        return Attempt(error="Enter your name: it is recorded with every run.")
    if accounts is None and not TYPED_NAME.fullmatch(name):
        return Attempt(error=f"Your name: up to {MAX_NAME} letters, digits, spaces and . _ - @")
    client_key = f"client:{client}"
    verdict = throttle.check(client_key, account_key)
    if not verdict.allowed:
        log.warning("console sign-in refused without checking: %s, %s, %s for %.0f s",
                    who, client_key, "locked" if verdict.locked else "throttled",
                    verdict.retry_after)
        return Attempt(error=throttled_message(verdict))
    if accounts is not None:
        account = verify(accounts, name, given)
        credential = account.password_hash if account else None
    else:
        assert settings.console_password
        ok = password_matches(given, settings.console_password)
        credential = settings.console_password if ok else None
    if credential is None:
        failures = throttle.failure(client_key, account_key)
        log.warning("console sign-in failed: wrong password for %s, %s, failure %d",
                    who, client_key, failures)
        return Attempt(error=wrong, checked=True)
    throttle.success(account_key)
    log.info("console sign-in: %s (%s), %s", _operator(settings, name), settings.sign_in,
             client_key)
    return Attempt(name, credential, checked=True)


def _submit_sign_in(settings: ConsoleSettings) -> None:
    """Form callback: runs before the script, so a good sign-in shows the console at once."""
    attempt = attempt_sign_in(settings, str(st.session_state.get(Keys.SIGN_IN_NAME) or ""),
                              str(st.session_state.get(Keys.SIGN_IN_PASSWORD) or ""),
                              client_address())
    if attempt.name is None or attempt.credential is None:
        st.session_state[Keys.SIGN_IN_ERROR] = attempt.error
        return
    st.session_state.pop(Keys.SIGN_IN_ERROR, None)
    st.session_state[Keys.OPERATOR] = attempt.name
    st.session_state[Keys.SIGNED_IN_WITH] = _fingerprint(settings.sign_in, attempt.name,
                                                         attempt.credential)


def _operator(settings: ConsoleSettings, name: str) -> str:
    prefix = ACCOUNT_PREFIX if settings.sign_in == MODE_ACCOUNTS else SHARED_PREFIX
    return f"{prefix}{name}"


def _signed_in(settings: ConsoleSettings) -> tuple[str, str] | None:
    """(operator, role) of this session, if its sign-in still holds: a changed password, a
    disabled or removed account, or another sign-in mode signs it out."""
    name = st.session_state.get(Keys.OPERATOR)
    if isinstance(name, str):
        if settings.sign_in == MODE_ACCOUNTS:
            account = (settings.accounts or {}).get(name)
            if account is not None and not account.disabled and st.session_state.get(
                    Keys.SIGNED_IN_WITH) == _fingerprint(MODE_ACCOUNTS, name,
                                                         account.password_hash):
                return _operator(settings, name), account.role
        elif settings.console_password and st.session_state.get(
                Keys.SIGNED_IN_WITH) == _fingerprint(MODE_SHARED, name,
                                                     settings.console_password):
            return _operator(settings, name), ROLE_PRUNE
    st.session_state.pop(Keys.OPERATOR, None)
    st.session_state.pop(Keys.SIGNED_IN_WITH, None)
    return None


def _password_form(settings: ConsoleSettings) -> None:
    st.title("Pruner console")
    shared = settings.sign_in == MODE_SHARED
    if shared:
        st.write("Sign in with the shared console password. Your runs are journaled as "
                 f"`{SHARED_PREFIX}<your name>`: the name is not verified.")
    else:
        st.write("Sign in with your operator account to browse and prune candidates.")
    # clear_on_submit: the typed password does not outlive the submit, right or wrong
    with st.form("sign_in", clear_on_submit=True):
        st.text_input("Your name" if shared else "Account", key=Keys.SIGN_IN_NAME,
                      max_chars=MAX_NAME)
        st.text_input("Console password" if shared else "Password", type="password",
                      key=Keys.SIGN_IN_PASSWORD)
        st.form_submit_button("Sign in", type="primary", on_click=_submit_sign_in,
                              args=(settings,), key="sign_in.submit")
    if error := st.session_state.get(Keys.SIGN_IN_ERROR):
        st.error(error)


def resolve_access(settings: ConsoleSettings) -> Access:
    """Render the sign-in step if one is due (and stop the run there), else return the access."""
    mode = settings.sign_in
    if mode == MODE_OIDC:
        return _oidc_access(settings)
    if mode in (MODE_ACCOUNTS, MODE_SHARED):
        signed_in = _signed_in(settings)
        if signed_in is None:
            _password_form(settings)
            st.stop()
        operator, role = signed_in
        return decide(settings, operator, role)
    return decide(settings, DEMO_OPERATOR if mode == MODE_DEMO else None)


def sign_out(settings: ConsoleSettings) -> None:
    name = st.session_state.pop(Keys.OPERATOR, None)
    st.session_state.pop(Keys.SIGNED_IN_WITH, None)
    st.session_state.pop(Keys.SIGN_IN_LOGGED, None)
    if name:
        log.info("console sign-out: %s", _operator(settings, str(name)))
    if settings.sign_in == MODE_OIDC:
        st.logout()
