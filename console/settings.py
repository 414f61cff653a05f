"""Console configuration from the environment and Streamlit secrets, resolved once per run.

One precedence rule: an environment variable that is set (to a non-blank value) wins over the
secrets file, except for the safety switches, which only ever tighten: read-only is on when
either source turns it on, and the lower `confirm_above` of the two applies.

Every value parses strictly: a flag that is not true/false, yes/no, on/off, 1/0, a number that
is not one, a placeholder or empty password, an OIDC sign-in that allows nobody, or two ways to
sign in at once stop the console with a message (an `InvalidArgument`), never a silent default.

Nothing here is ever rendered as is: the database URL and the passwords are secrets.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from console.accounts import Account, check_secret, is_placeholder, load_accounts
from core import errors
from core.db import SECRET_PARAMS, redact
from core.settings import DATABASE_URL_ENV, Settings, parse_count, parse_flag

DEMO_ENV = "PRUNER_DEMO"
# Set by `pruner console` when its demo wanted the real Backend.AI schema and fell back to the
# modelled one: why, in one line (shown in a banner on every page of a demo console).
DEMO_FALLBACK_ENV = "PRUNER_DEMO_FALLBACK"
READ_ONLY_ENV = "PRUNER_READ_ONLY"
PASSWORD_ENV = "PRUNER_CONSOLE_PASSWORD"
CONFIRM_ABOVE_ENV = "PRUNER_CONFIRM_ABOVE"
USERS_FILE_ENV = "PRUNER_CONSOLE_USERS_FILE"

DEFAULT_CONFIRM_ABOVE = 1_000  # prunes of more entity rows than this need the typed entity name
DEFAULT_SAMPLE_SIZE = 200  # rows in the "oldest candidates" table
DEFAULT_USERS_FILE = Path(".streamlit") / "pruner-users.toml"  # git-ignored
MIN_COOKIE_SECRET = 32

# How operators sign in (ConsoleSettings.sign_in)
MODE_OIDC = "oidc"  # [auth] in secrets: st.login, allow-list in [console.oidc]
MODE_ACCOUNTS = "accounts"  # the users file: per-operator name + password (argon2)
MODE_SHARED = "shared-password"  # one password for everyone; journaled as such
MODE_DEMO = "demo"  # the local demo, nothing configured: anyone here prunes as "demo"
MODE_NONE = "none"  # nothing configured, not a demo: preview and history only

@dataclass(frozen=True)
class OidcPolicy:
    """Who may use an OIDC-signed-in console, and as what. A user whose verified email, email
    domain or group matches a `prune_*` list may prune; else one matching a `read_*` list may
    look; anyone else is refused."""

    prune_emails: frozenset[str] = frozenset()
    prune_domains: frozenset[str] = frozenset()
    prune_groups: frozenset[str] = frozenset()
    read_emails: frozenset[str] = frozenset()
    read_domains: frozenset[str] = frozenset()
    read_groups: frozenset[str] = frozenset()
    groups_claim: str = "groups"

    @property
    def allows_nobody(self) -> bool:
        return not (self.prune_emails or self.prune_domains or self.prune_groups
                    or self.read_emails or self.read_domains or self.read_groups)


@dataclass(frozen=True)
class ConsoleSettings:
    database_url: str | None = None
    demo: bool = False
    demo_fallback: str | None = None  # why the demo is on the modelled schema (DEMO_FALLBACK_ENV)
    read_only: bool = False
    console_password: str | None = None  # the shared password (MODE_SHARED)
    oidc: bool = False  # an [auth] section exists: operators sign in with st.login
    oidc_policy: OidcPolicy = field(default_factory=OidcPolicy)
    users_file: Path | None = None
    accounts: Mapping[str, Account] | None = None  # None: there is no users file
    confirm_above: int = DEFAULT_CONFIRM_ABOVE
    sample_size: int = DEFAULT_SAMPLE_SIZE
    core: Settings = field(default_factory=Settings)  # the library's PRUNER_* settings

    def __repr__(self) -> str:  # never leak the URL or the password into logs or pages
        return (f"ConsoleSettings(sign_in={self.sign_in}, demo={self.demo}, "
                f"read_only={self.read_only}, "
                f"password={'set' if self.console_password else 'unset'}, "
                f"accounts={len(self.accounts or {})}, confirm_above={self.confirm_above})")

    @property
    def sign_in(self) -> str:
        """How operators sign in (one of the MODE_* values)."""
        if self.oidc:
            return MODE_OIDC
        if self.accounts is not None:
            return MODE_ACCOUNTS
        if self.console_password:
            return MODE_SHARED
        return MODE_DEMO if self.demo else MODE_NONE

    @property
    def secrets_to_hide(self) -> list[str]:
        """Strings that must never appear on a page (used to scrub error messages), longest
        first."""
        hidden = [self.console_password] if self.console_password else []
        if self.database_url:
            hidden += url_secrets(self.database_url)
        return sorted({s for s in hidden if s}, key=len, reverse=True)


def url_secrets(url: str) -> list[str]:
    """Every string of `url` that is, or is part of, a password: SQLAlchemy's reading of it,
    the user info's password up to the last '@' before the query together with each piece of it
    between unencoded '@'s (SQLAlchemy would show those as the host), and the values of secret
    query parameters; each also percent-decoded."""
    from sqlalchemy.engine import make_url

    found: list[str] = []
    try:
        parsed = make_url(url)
        found += [str(parsed.password or "")]
        for key, value in parsed.query.items():
            if any(word in key.lower() for word in SECRET_PARAMS):
                found += [value] if isinstance(value, str) else list(value)
    except Exception:  # an unparseable URL: what follows still finds its secrets
        pass
    rest = url.partition("://")[2] or url
    first_at = rest.find("@")
    if first_at >= 0:
        query = rest.find("?", first_at)
        last_at = rest.rfind("@", 0, query if query >= 0 else len(rest))
        _, colon, password = rest[:last_at].partition(":")
        if colon:
            found += [password, *password.split("@")]
    for item in rest.partition("?")[2].split("&"):
        key, sep, value = item.partition("=")
        if sep and any(word in unquote_plus(key).lower() for word in SECRET_PARAMS):
            found.append(value)
    return [s for text in found if text for s in {text, unquote_plus(text)}]


URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]+")


def scrub(message: str, settings: ConsoleSettings | None) -> str:
    """The message with every URL in it redacted (core.db.redact) and every configured secret
    masked: the console password, the database password however the URL carries it (also a
    query parameter, also each piece of it around an unencoded '@'). Defence in depth: messages
    are written not to hold secrets in the first place. Used for every error a page shows and
    every error the console logs or prints."""
    message = URL_IN_TEXT.sub(lambda found: redact(found.group(0)), message)
    for secret in settings.secrets_to_hide if settings else ():
        message = message.replace(secret, "***")
    return message


# ------------------------------------------------------------------------------ loading
def table(secrets: Mapping[str, Any], *path: str) -> Mapping[str, Any]:
    """The table at `path` of the secrets ({} when there is none)."""
    node: Any = secrets
    for name in path:
        node = node.get(name) if isinstance(node, Mapping) else None
        if node is None:
            return {}
    if not isinstance(node, Mapping):
        raise errors.InvalidArgument(f"[{'.'.join(path)}] in the secrets file must be a table")
    return node


def _env(env: Mapping[str, str], name: str) -> str | None:
    """An environment variable, when it is set to something (blank counts as unset)."""
    value = env.get(name)
    return value if value is not None and value.strip() else None


def _check_database_url(url: str) -> None:
    """Refuse a URL that cannot be used safely: unparseable, a password SQLAlchemy would cut at
    an unencoded '@' (its tail would become the host, shown in messages), or a placeholder."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise errors.InvalidArgument(
            "the database URL is not a valid URL (percent-encode special characters of the "
            "password: '@' as %40, ':' as %3A, '/' as %2F)") from None
    if "@" in (parsed.host or "") or "@" in (parsed.database or ""):
        raise errors.InvalidArgument(
            "the database URL's password contains an unencoded '@': percent-encode it as %40")
    passwords = [parsed.password] + [
        v for k, v in parsed.query.items() if isinstance(v, str) and "pass" in k.lower()]
    if any(p is not None and is_placeholder(str(p)) for p in passwords):
        raise errors.InvalidArgument(
            "the database URL's password is a placeholder (like the example's CHANGE-ME): "
            "set the real one")


def _check_auth(auth: Mapping[str, Any]) -> None:
    """Streamlit signs its identity cookie with `cookie_secret`: an example value left in place
    would let anyone forge a signed-in user."""
    cookie = auth.get("cookie_secret")
    if cookie is None:
        raise errors.InvalidArgument("[auth] needs a cookie_secret (a long random string)")
    check_secret(str(cookie), "[auth] cookie_secret", minimum=MIN_COOKIE_SECRET)
    for where, section in [("[auth]", auth), *((f"[auth.{k}]", v) for k, v in auth.items()
                                                if isinstance(v, Mapping))]:
        if "client_secret" in section:
            check_secret(str(section["client_secret"]), f"{where} client_secret", minimum=1)


def _words(section: Mapping[str, Any], key: str, *, lower: bool) -> frozenset[str]:
    value = section.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise errors.InvalidArgument(f"[console.oidc] {key} must be a list of strings")
    return frozenset(v.strip().lower() if lower else v.strip() for v in value if v.strip())


def _oidc_policy(section: Mapping[str, Any]) -> OidcPolicy:
    claim = section.get("groups_claim", "groups")
    if not isinstance(claim, str) or not claim.strip():
        raise errors.InvalidArgument("[console.oidc] groups_claim must be a claim name")
    policy = OidcPolicy(
        prune_emails=_words(section, "prune_emails", lower=True),
        prune_domains=_words(section, "prune_domains", lower=True),
        prune_groups=_words(section, "prune_groups", lower=False),
        read_emails=_words(section, "read_emails", lower=True),
        read_domains=_words(section, "read_domains", lower=True),
        read_groups=_words(section, "read_groups", lower=False),
        groups_claim=claim.strip())
    if policy.allows_nobody:
        raise errors.InvalidArgument(
            "[auth] turns on OIDC sign-in, but [console.oidc] allows nobody: list who may prune "
            "(prune_emails / prune_domains / prune_groups) and who may look (read_*)")
    return policy


def _confirm_above(env: Mapping[str, str], console: Mapping[str, Any]) -> int:
    """The lower of the two sources (a safety switch: it only tightens)."""
    values = []
    if (raw := _env(env, CONFIRM_ABOVE_ENV)) is not None:
        values.append(parse_count(raw, CONFIRM_ABOVE_ENV, minimum=0))
    if console.get("confirm_above") is not None:
        values.append(parse_count(console["confirm_above"], "[console] confirm_above",
                                  minimum=0))
    return min(values, default=DEFAULT_CONFIRM_ABOVE)


def users_file_path(env: Mapping[str, str], console: Mapping[str, Any],
                    cwd: Path) -> tuple[Path, bool]:
    """The users file's path (PRUNER_CONSOLE_USERS_FILE, else `[console] users_file`, else the
    default; a relative path is taken from `cwd`), and whether it was configured."""
    raw = _env(env, USERS_FILE_ENV) or console.get("users_file")
    path = Path(str(raw)).expanduser() if raw else DEFAULT_USERS_FILE
    return (path if path.is_absolute() else cwd / path), raw is not None


def load_settings(env: Mapping[str, str], secrets: Mapping[str, Any],
                  cwd: Path | None = None) -> ConsoleSettings:
    """The console's settings: environment first, then `.streamlit/secrets.toml` (see the
    module docstring for the one rule). `cwd` anchors a relative users file (default: the
    working directory, where Streamlit also looks for `.streamlit/`)."""
    database = table(secrets, "database")
    console = table(secrets, "console")

    url = _env(env, DATABASE_URL_ENV) or database.get("url")
    if url:
        _check_database_url(str(url))

    password = None
    if (raw := _env(env, PASSWORD_ENV)) is not None:
        password = check_secret(raw, PASSWORD_ENV)
    elif console.get("password") is not None:
        password = check_secret(str(console["password"]), "[console] password in the secrets")

    read_only = parse_flag(env.get(READ_ONLY_ENV, ""), READ_ONLY_ENV)
    read_only |= parse_flag(console.get("read_only", False), "[console] read_only")

    auth = table(secrets, "auth") if "auth" in secrets else None
    policy = OidcPolicy()
    if auth is not None:
        _check_auth(auth)
        policy = _oidc_policy(table(secrets, "console", "oidc"))

    users_file, configured = users_file_path(env, console, cwd or Path.cwd())
    accounts = None
    if users_file.exists():
        accounts = load_accounts(users_file)
    elif configured:
        raise errors.InvalidArgument(
            f"the users file {users_file} ({USERS_FILE_ENV} or [console] users_file) does not "
            "exist: create it with `pruner console users add NAME --role prune`")

    modes = [what for what, on in (("[auth] (OIDC)", auth is not None),
                                   (f"the users file {users_file}", accounts is not None),
                                   ("a shared console password", password is not None)) if on]
    if len(modes) > 1:
        raise errors.InvalidArgument(
            f"configure one way to sign in, not several: found {' and '.join(modes)}")

    return ConsoleSettings(
        core=Settings.from_env(env),
        database_url=str(url) if url else None,
        demo=parse_flag(env.get(DEMO_ENV, ""), DEMO_ENV),
        demo_fallback=" ".join(env.get(DEMO_FALLBACK_ENV, "").split()) or None,
        read_only=read_only,
        console_password=password,
        oidc=auth is not None,
        oidc_policy=policy,
        users_file=users_file,
        accounts=accounts,
        confirm_above=_confirm_above(env, console),
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
