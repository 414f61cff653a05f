"""Database URLs: the one check of a URL (PostgreSQL through asyncpg), libpq's URL parameters
translated to what asyncpg takes, and the one redaction that keeps a password out of every page,
log line and error.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import unquote_plus, urlencode

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from core import errors, settings


def database_url(url: str | None = None) -> str:
    """`url` (or PRUNER_DATABASE_URL) checked and set to drive PostgreSQL through asyncpg. Its
    libpq parameters stay in it (`create_engine` translates them; see `connect_arguments`); one
    that cannot be translated is InvalidArgument naming it."""
    parsed = parse_url(url)
    connect_arguments(parsed)  # refuse what cannot be honoured now, not at the first connect
    return parsed.render_as_string(hide_password=False)


def parse_url(url: str | None) -> URL:
    """`url` (or PRUNER_DATABASE_URL) parsed, PostgreSQL through asyncpg; InvalidArgument if
    it is missing, malformed or not PostgreSQL."""
    url = url or settings.Settings.from_env().database_url
    if not url:
        raise errors.InvalidArgument(
            f"no database configured: pass --database-url or set {settings.DATABASE_URL_ENV}"
        )
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise errors.InvalidArgument("the database URL is not a valid URL") from None
    if parsed.get_backend_name() != "postgresql":
        raise errors.InvalidArgument("the database URL must point at PostgreSQL")
    # Always drive PostgreSQL through asyncpg, whatever driver the URL names.
    return parsed.set(drivername="postgresql+asyncpg")


# libpq's URL parameters (https://www.postgresql.org/docs/current/libpq-connect.html) and what
# asyncpg is given for each; any other parameter is refused, naming it.
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# read by asyncpg from a parameters-only DSN, exactly as libpq reads them
SSL_FILES = ("sslrootcert", "sslcert", "sslkey", "sslcrl")
SSL_DSN_PARAMS = (*SSL_FILES, "sslpassword", "ssl_min_protocol_version",
                  "ssl_max_protocol_version")
SAME_NAME_KWARGS = ("target_session_attrs", "krbsrvname", "gsslib", "passfile")
SERVER_SETTINGS = ("application_name", "options")  # startup parameters; the server reads them
URL_FIELDS = {"user": "username", "password": "password", "dbname": "database"}
KEPT_FOR_SQLALCHEMY = ("host", "port", "prepared_statement_cache_size")
LIBPQ_PARAMS = tuple(sorted({"sslmode", "ssl", "connect_timeout", *SSL_DSN_PARAMS,
                             *SAME_NAME_KWARGS, *SERVER_SETTINGS, *URL_FIELDS,
                             *KEPT_FOR_SQLALCHEMY}))


def connect_arguments(url: URL) -> tuple[URL, dict[str, Any]]:
    """The URL SQLAlchemy's asyncpg dialect can take and the `connect_args` that carry its libpq
    parameters to asyncpg:

    * `sslmode` (or asyncpg's own `ssl`) -> `ssl`, one of disable, allow, prefer, require,
      verify-ca, verify-full: asyncpg builds the SSL context with libpq's meaning of each mode;
    * `sslrootcert`, `sslcert`, `sslkey`, `sslcrl`, `sslpassword`, `ssl_min_protocol_version`,
      `ssl_max_protocol_version` -> a parameters-only `dsn` (`postgresql://?sslrootcert=…`)
      that asyncpg reads as libpq does; the files must exist;
    * `connect_timeout` (whole seconds; 0 waits forever, as in libpq) -> `timeout`;
    * `application_name`, `options` (`-c name=value …`) -> `server_settings`: startup parameters
      the server applies, as it does for libpq;
    * `target_session_attrs`, `krbsrvname`, `gsslib`, `passfile` -> the same keyword;
    * `user`, `password`, `dbname` -> the URL's own user, password and database;
    * `host`, `port` (several hosts included), `prepared_statement_cache_size` -> left to
      SQLAlchemy's asyncpg dialect.

    Anything else is InvalidArgument naming the parameter (asyncpg would fail on it, or hand it
    to the server as a setting libpq never would)."""
    kept: dict[str, str | tuple[str, ...]] = {}
    args: dict[str, Any] = {}
    dsn: dict[str, str] = {}
    server: dict[str, str] = {}
    fields: dict[str, str] = {}
    for name, raw in url.query.items():
        if name in KEPT_FOR_SQLALCHEMY:
            kept[name] = raw
            continue
        if name not in LIBPQ_PARAMS:
            raise errors.InvalidArgument(
                f"the database URL parameter {name[:40]!r} is not supported (supported: "
                f"{', '.join(LIBPQ_PARAMS)})")
        if not isinstance(raw, str):
            raise errors.InvalidArgument(
                f"the database URL parameter {name!r} is given more than once")
        if name in ("sslmode", "ssl"):
            if "ssl" in args:
                raise errors.InvalidArgument("the database URL gives both sslmode and ssl")
            if raw not in SSL_MODES:
                raise errors.InvalidArgument(
                    f"the database URL parameter {name}={raw[:40]!r} is not one of "
                    f"{', '.join(SSL_MODES)}")
            args["ssl"] = raw
        elif name == "connect_timeout":
            seconds = settings.parse_count(raw, "the database URL parameter connect_timeout",
                                           minimum=0)
            args["timeout"] = seconds or None
        elif name in SSL_DSN_PARAMS:
            if name in SSL_FILES and not os.path.exists(os.path.expanduser(raw)):
                raise errors.InvalidArgument(
                    f"the database URL parameter {name}: no such file: {raw[:200]}")
            dsn[name] = raw
        elif name in SERVER_SETTINGS:
            server[name] = raw
        elif name in SAME_NAME_KWARGS:
            args[name] = raw
        else:
            fields[URL_FIELDS[name]] = raw
    if dsn:
        args["dsn"] = "postgresql://?" + urlencode(dsn)
    if server:
        args["server_settings"] = server
    target = url.set(query=kept, **fields)  # type: ignore[arg-type]
    return target, args


HIDDEN = "(hidden)"
_SCHEME = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://(?P<rest>.*)", re.DOTALL)
_TAIL = re.compile(r"(?P<host>[^@/?#]*)(?P<path>/[^?#]*)?(?:\?(?P<query>[^#]*))?(?P<frag>#.*)?",
                   re.DOTALL)
# A query parameter whose name contains one of these holds a secret (password=, sslpassword=,
# passfile=, token=, ...): its value is masked. Masking a harmless one costs nothing.
SECRET_PARAMS = ("pass", "pwd", "secret", "token", "key", "auth", "credential")


def redact(url: str) -> str:
    """`url` for pages, messages and logs: every password masked, whatever form it takes.

    * `user:password@host` -> `user:***@host`. The password runs from the first `:` of the user
      info to the last `@` before the query, so a password with an unencoded `@`, `/`, `?` or
      `:` is masked whole (SQLAlchemy itself would end it at the first `@`);
    * query parameters that name a secret (`?password=`, `sslpassword=`, `token=`, ...) -> `***`;
    * a password followed by another `@` inside the query cannot be delimited: everything after
      the user name is `(hidden)`; so is all of a string that is not a `scheme://...` URL.

    Secrets that SQLAlchemy would read out of the URL never appear in the result: if one still
    would (a parse not foreseen here), everything after the scheme is `(hidden)`.
    """
    found = _SCHEME.fullmatch(url.strip())
    if found is None:
        return HIDDEN
    scheme, rest = found["scheme"], found["rest"]
    shown = _redact_rest(rest)
    if shown is None or any(_shows(shown, secret) for secret in _secrets_sqlalchemy_reads(url)):
        shown = HIDDEN
    return f"{scheme}://{shown}"


def _shows(shown: str, secret: str) -> bool:
    """Whether `secret` is visible in `shown`: as a whole component, or (4+ characters, where a
    match is no coincidence) inside one."""
    tokens = re.split(r"[/:@?&=#,\[\]]", shown)
    return secret in tokens or (len(secret) >= 4 and any(secret in t for t in tokens))


def _redact_rest(rest: str) -> str | None:
    """Everything after `scheme://`, redacted; None when no part of it can be shown safely."""
    user, has_password, tail = _split_user_info(rest)
    if has_password and "@" in tail:
        tail_shown: str | None = HIDDEN  # `u:p@h?x@host`: where does the password end?
    else:
        tail_shown = _redact_tail(tail)
    if tail_shown is None:
        return None
    if user is None:
        return tail_shown
    return f"{user}{':***' if has_password else ''}@{tail_shown}"


def _split_user_info(rest: str) -> tuple[str | None, bool, str]:
    """(user name or None, whether a password follows it, what comes after the user info).

    Follows SQLAlchemy's reading of a URL (a user name never contains `:` or `/`; a password
    starts at the user name's `:` and needs an `@` after it), but lets the password run to the
    last `@` before the query rather than the first one.
    """
    if "@" not in rest:
        return None, False, rest
    slash = rest.find("/")
    slash = len(rest) if slash < 0 else slash
    colon = rest.find(":", 0, slash)
    if colon >= 0 and "@" in rest[colon:]:
        first = rest.index("@", colon)
        query = rest.find("?", first)
        last = rest.rfind("@", first, len(rest) if query < 0 else query)
        return rest[:colon], True, rest[last + 1:]
    at = rest.rfind("@", 0, slash)
    if at >= 0:
        return rest[:at], False, rest[at + 1:]
    return None, False, rest  # the '@' is in the path or the query


def _redact_tail(tail: str) -> str | None:
    """host[:port][,host2...][/database][?query][#fragment] with secret parameters masked."""
    parts = _TAIL.fullmatch(tail)
    if parts is None:
        return None
    shown = parts["host"] + (parts["path"] or "")
    if parts["query"] is not None:
        shown += "?" + "&".join(_redact_param(item) for item in parts["query"].split("&"))
    if parts["frag"]:
        shown += "#***"
    return shown


def _redact_param(item: str) -> str:
    key, sep, _ = item.partition("=")
    name = unquote_plus(key).lower()
    if sep and any(word in name for word in SECRET_PARAMS):
        return f"{key}=***"
    return item


def _secrets_sqlalchemy_reads(url: str) -> list[str]:
    """The password and secret parameters SQLAlchemy would take from `url` (the safety net)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return []
    found = [parsed.password] if parsed.password else []
    for key, value in parsed.query.items():
        if any(word in key.lower() for word in SECRET_PARAMS):
            found += [value] if isinstance(value, str) else list(value)
    return [str(s) for s in found if s]
