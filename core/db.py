"""Engines, connections and the mapping of driver errors to our typed errors.

The URL helpers live in `core.urls`; `redact`, `connect_arguments` and `database_url` are also
importable from here, where the console and the CLI have always found them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, TypeAlias

from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine

from core import errors
from core.urls import HIDDEN as HIDDEN  # re-exported: part of this module's public API
from core.urls import SECRET_PARAMS as SECRET_PARAMS
from core.urls import connect_arguments as connect_arguments
from core.urls import database_url as database_url
from core.urls import parse_url
from core.urls import redact as redact

# Anything a pruner can run on: an engine (it opens and owns a transaction) or a caller's
# connection or session (the prune joins the caller's transaction).
Database: TypeAlias = AsyncEngine | AsyncConnection | AsyncSession


def create_engine(url: str | None = None, **kwargs: Any) -> AsyncEngine:
    """An AsyncEngine on `url` (or PRUNER_DATABASE_URL) through asyncpg; `kwargs` go to
    SQLAlchemy's create_async_engine. A missing or malformed URL, or a URL parameter that
    cannot be honoured, is InvalidArgument. The URL's libpq parameters become asyncpg's
    (`connect_arguments`); a `connect_args` given here wins over them key by key
    (`server_settings` are merged)."""
    kwargs.setdefault("pool_pre_ping", True)
    target, from_url = connect_arguments(parse_url(url))
    given = dict(kwargs.pop("connect_args", None) or {})
    if "server_settings" in from_url and "server_settings" in given:
        given["server_settings"] = {**from_url["server_settings"], **given["server_settings"]}
    return create_async_engine(target, connect_args={**from_url, **given}, **kwargs)


SQLSTATE_ERRORS: dict[str, type[errors.PrunerError]] = {
    "55P03": errors.LockTimeout,  # lock_not_available
    "57014": errors.StatementTimeout,  # query_canceled
    "42501": errors.PermissionDenied,  # insufficient_privilege
    "25006": errors.PermissionDenied,  # read_only_sql_transaction
    "42P01": errors.SchemaMissing,  # undefined_table
    "28P01": errors.DatabaseUnavailable,  # invalid_password
    "28000": errors.DatabaseUnavailable,  # invalid_authorization_specification
    "3D000": errors.DatabaseUnavailable,  # invalid_catalog_name
    "57P01": errors.ConnectionLost,  # admin_shutdown (backend terminated)
    "57P02": errors.ConnectionLost,  # crash_shutdown
    "57P03": errors.DatabaseUnavailable,  # cannot_connect_now
    "40P01": errors.Deadlock,  # deadlock_detected
    "40001": errors.SerializationFailure,  # serialization_failure
    "23503": errors.RowsAppeared,  # foreign_key_violation (during a prune: a new reference)
}


# What a database call can raise before we translate it: SQLAlchemy's wrappers, and the driver's
# own OSError family when a connection cannot even be opened.
DB_ERRORS = (SQLAlchemyError, OSError)


def sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None) or exc
    for obj in (orig, getattr(orig, "__cause__", None)):
        code = getattr(obj, "sqlstate", None) or getattr(obj, "pgcode", None)
        if code:
            return str(code)
    return None


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    msg = text[0] if text else type(orig).__name__
    # asyncpg adapter errors look like "<class 'asyncpg...'>: message"
    return msg.split(">: ", 1)[-1]


def _detail(exc: BaseException) -> str:
    """PostgreSQL's DETAIL (e.g. which key is still referenced from where), if any."""
    orig = getattr(exc, "orig", None) or exc
    for obj in (orig, getattr(orig, "__cause__", None)):
        detail = getattr(obj, "detail", None)
        if detail:
            return " ".join(str(detail).split())
    return ""


DIAGNOSTICS = {"sqlstate": "sqlstate", "schema_name": "schema", "table_name": "table",
               "constraint_name": "constraint", "column_name": "column"}


def diagnostics(exc: BaseException) -> dict[str, str]:
    """What PostgreSQL's error report names (sqlstate, schema, table, constraint, column)."""
    orig = getattr(exc, "orig", None) or exc
    for obj in (getattr(orig, "__cause__", None), orig):
        found = {ours: str(v) for theirs, ours in DIAGNOSTICS.items()
                 if (v := getattr(obj, theirs, None))}
        if found:
            return found
    return {}


def translate(exc: BaseException, doing: str, *, connecting: bool = False,
              ) -> errors.PrunerError:
    """Turn a driver/SQLAlchemy error into one of ours with a one-line, operator-facing message
    (PostgreSQL's DETAIL appended when it has one; its fields in `diagnostics`)."""
    if isinstance(exc, errors.PrunerError):
        return exc
    ours = _translate(exc, doing, connecting)
    ours.diagnostics = diagnostics(exc)
    return ours


def _translate(exc: BaseException, doing: str, connecting: bool) -> errors.PrunerError:
    code = sqlstate(exc)
    detail = _first_line(exc)
    if more := _detail(exc):
        detail = f"{detail} ({more})"
    if code and code.startswith("23"):
        refused = errors.RowsAppeared if code == "23503" else errors.IntegrityFailure
        return refused(f"{doing} refused by the database: {detail}")
    if code in SQLSTATE_ERRORS:
        return SQLSTATE_ERRORS[code](f"{doing} failed: {detail}")
    invalidated = isinstance(exc, OperationalError | DBAPIError) and getattr(
        exc, "connection_invalidated", False)
    if isinstance(exc, OSError | ConnectionError) or invalidated:
        gone = errors.DatabaseUnavailable if connecting else errors.ConnectionLost
        return gone(f"{doing} failed: database unreachable ({detail})")
    if isinstance(exc, DBAPIError):
        return errors.PruneFailed(f"{doing} failed: {detail}")
    return errors.PrunerError(f"{doing} failed: {type(exc).__name__}: {detail}")


@asynccontextmanager
async def transaction(db: Database, doing: str, *, snapshot: bool = False,
                      ) -> AsyncIterator[AsyncConnection]:
    """A connection inside a transaction; the one place where driver errors become ours.

    With an engine we own the transaction: commit on success, roll back on any error; with
    `snapshot` it is a read-only REPEATABLE READ transaction, so several queries see one state.
    With a caller's connection or session we join its transaction through a SAVEPOINT, so a
    failed prune rolls back only its own work and the caller's transaction stays usable.

    Every SQLAlchemy or OS error raised while connecting, inside the block, or at commit comes
    out as a `core.errors.PrunerError` whose one-line message starts with `doing` ("prune of
    sessions failed: …"); a failure to connect says "connecting to the database failed: …".
    Our own errors pass through unchanged.
    """
    try:
        async with _begin(db, snapshot) as conn:
            yield conn
    except DB_ERRORS as exc:
        raise translate(exc, doing) from exc


@asynccontextmanager
async def _begin(db: Database, snapshot: bool) -> AsyncIterator[AsyncConnection]:
    if isinstance(db, AsyncEngine):
        async with AsyncExitStack() as stack:
            try:
                conn = await stack.enter_async_context(db.connect())
            except DB_ERRORS as exc:
                raise translate(exc, "connecting to the database", connecting=True) from exc
            if snapshot:
                conn = await conn.execution_options(isolation_level="REPEATABLE READ",
                                                    postgresql_readonly=True)
            await stack.enter_async_context(conn.begin())
            yield conn
        return
    conn = await db.connection() if isinstance(db, AsyncSession) else db
    if not conn.in_transaction():
        async with conn.begin():
            yield conn
        return
    async with conn.begin_nested():
        yield conn
