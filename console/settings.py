"""Console configuration from the environment and Streamlit secrets, resolved once per run.

Nothing here is ever rendered as is: the database URL and the console password are secrets.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core import errors
from core.settings import DATABASE_URL_ENV, Settings

DEMO_ENV = "PRUNER_DEMO"
READ_ONLY_ENV = "PRUNER_READ_ONLY"
PASSWORD_ENV = "PRUNER_CONSOLE_PASSWORD"
CONFIRM_ABOVE_ENV = "PRUNER_CONFIRM_ABOVE"

DEFAULT_CONFIRM_ABOVE = 1_000  # prunes of more entity rows than this need the typed entity name
DEFAULT_SAMPLE_SIZE = 200  # rows in the "oldest candidates" table

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class ConsoleSettings:
    database_url: str | None = None
    demo: bool = False
    read_only: bool = False
    console_password: str | None = None
    oidc: bool = False  # an [auth] section exists: operators sign in with st.login
    confirm_above: int = DEFAULT_CONFIRM_ABOVE
    sample_size: int = DEFAULT_SAMPLE_SIZE
    core: Settings = field(default_factory=Settings)  # the library's PRUNER_* settings

    def __repr__(self) -> str:  # never leak the URL or the password into logs or pages
        return (f"ConsoleSettings(demo={self.demo}, read_only={self.read_only}, "
                f"oidc={self.oidc}, password={'set' if self.console_password else 'unset'}, "
                f"confirm_above={self.confirm_above})")

    @property
    def secrets_to_hide(self) -> list[str]:
        """Strings that must never appear on a page (used to scrub error messages)."""
        from sqlalchemy.engine import make_url

        hidden = [self.console_password] if self.console_password else []
        if self.database_url:
            try:
                password = make_url(self.database_url).password
            except Exception:  # an unparsable URL: hide it whole
                password = self.database_url
            if password:
                hidden.append(str(password))
        return hidden


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE


def _positive_int(value: Any, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise errors.InvalidArgument(f"{name} must be a whole number, got {value!r}") from None
    if number < 0:
        raise errors.InvalidArgument(f"{name} must be zero or more, got {number}")
    return number


def load_settings(env: Mapping[str, str], secrets: Mapping[str, Any]) -> ConsoleSettings:
    """Environment first (the launcher and deployments set it), then `.streamlit/secrets.toml`.

    Safety switches only ever tighten: read-only is on when either source turns it on.
    """
    database = secrets.get("database") or {}
    console = secrets.get("console") or {}
    url = env.get(DATABASE_URL_ENV) or database.get("url") or None
    password = console.get("password") or env.get(PASSWORD_ENV) or None
    confirm_raw = env.get(CONFIRM_ABOVE_ENV) or console.get("confirm_above")
    return ConsoleSettings(
        core=Settings.from_env(env),
        database_url=str(url) if url else None,
        demo=_flag(env.get(DEMO_ENV, "")),
        read_only=_flag(env.get(READ_ONLY_ENV, "")) or _flag(console.get("read_only", False)),
        console_password=str(password) if password else None,
        oidc="auth" in secrets,
        confirm_above=(DEFAULT_CONFIRM_ABOVE if confirm_raw in (None, "")
                       else _positive_int(confirm_raw, CONFIRM_ABOVE_ENV)),
    )


def streamlit_secrets() -> dict[str, Any]:
    """`st.secrets` as a plain dict; no secrets file is the same as empty secrets."""
    import streamlit as st

    try:
        return {key: st.secrets[key] for key in st.secrets}
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        return {}


def current_settings() -> ConsoleSettings:
    return load_settings(os.environ, streamlit_secrets())
