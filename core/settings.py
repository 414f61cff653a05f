"""Settings: the one reader of the library's `PRUNER_*` environment variables.

Entry points (the CLI, the console, the notebook) call `Settings.from_env()` once and pass what
they need down; library functions take plain values and never read the environment themselves.
Values parse strictly: a malformed number or flag is an `InvalidArgument` naming the variable,
never a silent default (a safety switch that does not parse must not fail open).
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

from core import errors

DATABASE_URL_ENV = "PRUNER_DATABASE_URL"
MODULES_ENV = "PRUNER_MODULES"
MAX_LIMIT_ENV = "PRUNER_MAX_LIMIT"
LOCK_TIMEOUT_ENV = "PRUNER_LOCK_TIMEOUT_MS"
STATEMENT_TIMEOUT_ENV = "PRUNER_STATEMENT_TIMEOUT_MS"
OPERATOR_ENV = "PRUNER_OPERATOR"
DEBUG_ENV = "PRUNER_DEBUG"

DEFAULT_LIMIT = 1_000

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def parse_flag(raw: object, name: str) -> bool:
    """A boolean setting: true/false, yes/no, on/off, 1/0 (any case); anything else is refused."""
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise errors.InvalidArgument(
        f"{name} must be one of true/false, yes/no, on/off, 1/0; got {str(raw)[:40]!r}")


def parse_count(raw: object, name: str, *, minimum: int = 1) -> int:
    """A whole-number setting of at least `minimum`."""
    if isinstance(raw, bool):
        raise errors.InvalidArgument(f"{name} must be a whole number, got {raw!r}")
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise errors.InvalidArgument(
            f"{name} must be a whole number, got {str(raw)[:40]!r}") from None
    if value < minimum:
        raise errors.InvalidArgument(f"{name} must be at least {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class PruneSettings:
    """Operational bounds of one prune: the largest `limit` a call may ask for, and the
    per-transaction `lock_timeout` / `statement_timeout` in milliseconds."""

    max_limit: int = 100_000
    lock_timeout_ms: int = 20
    statement_timeout_ms: int = 300_000


def default_operator() -> str:
    """The OS user and host this process runs as (`user@host`)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class Settings:
    """Everything the library can be told through the environment."""

    database_url: str | None = None
    modules: tuple[str, ...] = ()
    prune: PruneSettings = field(default_factory=PruneSettings)
    operator: str = field(default_factory=default_operator)
    debug: bool = False

    def __repr__(self) -> str:  # the URL may carry a password: never print it
        return (f"Settings(database_url={'set' if self.database_url else 'unset'}, "
                f"modules={self.modules!r}, prune={self.prune!r}, operator={self.operator!r})")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def count(name: str, default: int) -> int:
            raw = env.get(name, "")
            return default if raw.strip() == "" else parse_count(raw, name)

        base = PruneSettings()
        return cls(
            database_url=env.get(DATABASE_URL_ENV) or None,
            modules=tuple(m.strip() for m in env.get(MODULES_ENV, "").split(",") if m.strip()),
            prune=PruneSettings(
                max_limit=count(MAX_LIMIT_ENV, base.max_limit),
                lock_timeout_ms=count(LOCK_TIMEOUT_ENV, base.lock_timeout_ms),
                statement_timeout_ms=count(STATEMENT_TIMEOUT_ENV, base.statement_timeout_ms),
            ),
            operator=env.get(OPERATOR_ENV) or default_operator(),
            debug=parse_flag(env.get(DEBUG_ENV, ""), DEBUG_ENV),
        )
