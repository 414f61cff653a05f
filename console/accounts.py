"""Operator accounts: a TOML file of argon2 password hashes, and what a secret may not be.

The file (default `.streamlit/pruner-users.toml`, git-ignored; `[console] users_file` or
PRUNER_CONSOLE_USERS_FILE) is written by `pruner console users add|disable|enable|list` and only
read by the console:

    [users.alice]
    role = "prune"                    # or "read": preview and history only
    hash = "$argon2id$v=19$m=65536,t=3,p=4$..."
    disabled = false

Passwords are hashed and checked by argon2-cffi; the file never holds a password, and nothing
here puts one in a message, a log line or an exception.
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core import errors

ROLE_PRUNE = "prune"  # may prune and drain (unless the console is read-only)
ROLE_READ = "read"  # preview and history only
ROLES = (ROLE_PRUNE, ROLE_READ)

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
MIN_PASSWORD = 12

HASHER = PasswordHasher()  # argon2id with the library's (RFC 9106) defaults

# Lower-case letters and digits of well-known placeholders ("CHANGE-ME" -> "changeme").
_PLACEHOLDERS = frozenset({
    "changeme", "changethis", "replaceme", "password", "passwd", "secret", "admin", "root",
    "example", "placeholder", "todo", "fixme", "tbd", "dummy", "default", "test", "none",
    "null", "yourpassword", "mypassword", "consolepassword", "alongrandomstring",
    "cookiesecret", "clientsecret", "letmein", "qwerty", "123456", "12345678", "123456789",
})


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    password_hash: str = field(repr=False)
    disabled: bool = False


def is_placeholder(secret: str) -> bool:
    """Whether `secret` is an example value left in place (CHANGE-ME, "...", <password>, xxxx)."""
    text = secret.strip()
    squashed = re.sub(r"[^a-z0-9]", "", text.lower())
    return (squashed in _PLACEHOLDERS or "changeme" in squashed or "replaceme" in squashed
            or len(set(squashed)) <= 1  # "", "...", "xxxxxxxx", "00000000"
            or (text.startswith("<") and text.endswith(">")))


def check_secret(secret: str, what: str, *, minimum: int = MIN_PASSWORD) -> str:
    """`secret` if it may protect the console; else InvalidArgument naming `what`, never the
    value."""
    if not secret.strip():
        raise errors.InvalidArgument(f"{what} is empty: set a real one, or remove the setting")
    if is_placeholder(secret):
        raise errors.InvalidArgument(
            f"{what} is a placeholder (like the example's CHANGE-ME): set a real one")
    if len(secret) < minimum:
        raise errors.InvalidArgument(f"{what} is too short: use at least {minimum} characters")
    return secret


def normalize_name(raw: object) -> str:
    return str(raw or "").strip().lower()


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise errors.InvalidArgument(
            "an account name is 1-64 characters: lower-case letters, digits, '.', '_', '-', "
            "starting with a letter or digit")
    return name


def check_role(role: str, where: str) -> str:
    if role not in ROLES:
        raise errors.InvalidArgument(f"{where}: the role must be one of {', '.join(ROLES)}")
    return role


def hash_password(password: str, hasher: PasswordHasher = HASHER) -> str:
    return hasher.hash(password)


@functools.cache
def _decoy_hash() -> str:
    """A hash of nothing anyone can type, verified for unknown and disabled accounts so that a
    wrong name costs as long as a wrong password (no telling which accounts exist by timing)."""
    return hash_password(os.urandom(16).hex())


def verify(accounts: Mapping[str, Account], name: str, password: str) -> Account | None:
    """The enabled account `name` if `password` is its password, else None."""
    account = accounts.get(name)
    if account is None or account.disabled:
        _matches(_decoy_hash(), password)
        return None
    return account if _matches(account.password_hash, password) else None


def _matches(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# ------------------------------------------------------------------------------ the file
def load_accounts(path: Path) -> dict[str, Account]:
    """The accounts in `path`; {} when there is no such file. A file that is there but broken is
    an InvalidArgument (the console must not fall back to another way to sign in)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise errors.InvalidArgument(
            f"cannot read the users file {path}: {type(exc).__name__}") from None
    except tomllib.TOMLDecodeError as exc:
        raise errors.InvalidArgument(f"the users file {path} is not valid TOML: {exc}") from None
    users = data.get("users", {})
    if not isinstance(users, dict):
        raise errors.InvalidArgument(f"the users file {path}: [users] must be a table")
    return {name: _account(path, name, entry) for name, entry in users.items()}


def _account(path: Path, name: str, entry: Any) -> Account:
    where = f"the users file {path}, account {name!r}"
    if not NAME_PATTERN.fullmatch(name):
        raise errors.InvalidArgument(f"{where}: not a valid account name")
    if not isinstance(entry, dict):
        raise errors.InvalidArgument(f"{where}: must be a table")
    password_hash, disabled = entry.get("hash"), entry.get("disabled", False)
    if not isinstance(password_hash, str) or not password_hash.startswith("$argon2"):
        raise errors.InvalidArgument(f"{where}: `hash` must be an argon2 hash")
    if not isinstance(disabled, bool):
        raise errors.InvalidArgument(f"{where}: `disabled` must be true or false")
    return Account(name, check_role(str(entry.get("role", "")), where), password_hash, disabled)


def render_accounts(accounts: Mapping[str, Account]) -> str:
    """The users file's text. Names, roles and hashes only ever hold characters that a TOML
    basic string takes as they are (json.dumps quotes them the TOML way)."""
    lines = ["# Pruner console operators, managed by `pruner console users`.",
             "# Argon2 hashes only: this file never holds a password. Keep it private.", ""]
    for name in sorted(accounts):
        account = accounts[name]
        lines += [f"[users.{json.dumps(name)}]", f"role = {json.dumps(account.role)}",
                  f"hash = {json.dumps(account.password_hash)}",
                  f"disabled = {'true' if account.disabled else 'false'}", ""]
    return "\n".join(lines)


def write_accounts(path: Path, accounts: Mapping[str, Account]) -> None:
    """Replace the users file atomically, readable by its owner only."""
    text = render_accounts(accounts)
    parsed = tomllib.loads(text).get("users", {})  # what the console will read back
    if {n: _account(path, n, e) for n, e in parsed.items()} != dict(accounts):
        raise errors.PrunerError("the users file would not read back as written; not saved")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".pruner-users-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
