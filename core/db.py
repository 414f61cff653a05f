"""Engines, connections and the mapping of driver errors to our typed errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, TypeAlias

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine

from core import errors, settings

# Anything a pruner can run on: an engine (it opens and owns a transaction) or a caller's
# connection or session (the prune joins the caller's transaction).
Database: TypeAlias = AsyncEngine | AsyncConnection | AsyncSession


def database_url(url: str | None = None) -> str:
    """`url` (or PRUNER_DATABASE_URL) checked and set to drive PostgreSQL through asyncpg."""
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
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def redact(url: str) -> str:
    """The URL with its password hidden, for messages and pages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid url>"


def create_engine(url: str | None = None, **kwargs: Any) -> AsyncEngine:
    """An AsyncEngine on `url` (or PRUNER_DATABASE_URL) through asyncpg; `kwargs` go to
    SQLAlchemy's create_async_engine. A missing or malformed URL is InvalidArgument."""
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(database_url(url), **kwargs)


SQLSTATE_ERRORS: dict[str, type[errors.PrunerError]] = {
    "55P03": errors.LockTimeout,  # lock_not_available
    "57014": errors.StatementTimeout,  # query_canceled
    "42501": errors.PermissionDenied,  # insufficient_privilege
    "25006": errors.PermissionDenied,  # read_only_sql_transaction
    "42P01": errors.SchemaMissing,  # undefined_table
    "28P01": errors.DatabaseUnavailable,  # invalid_password
    "28000": errors.DatabaseUnavailable,  # invalid_authorization_specification
    "3D000": errors.DatabaseUnavailable,  # invalid_catalog_name
    "57P01": errors.DatabaseUnavailable,  # admin_shutdown (backend terminated)
    "57P02": errors.DatabaseUnavailable,  # crash_shutdown
    "57P03": errors.DatabaseUnavailable,  # cannot_connect_now
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


def translate(exc: BaseException, doing: str) -> errors.PrunerError:
    """Turn a driver/SQLAlchemy error into one of ours with a one-line, operator-facing message."""
    if isinstance(exc, errors.PrunerError):
        return exc
    code = sqlstate(exc)
    detail = _first_line(exc)
    if code and code.startswith("23"):
        return errors.IntegrityFailure(f"{doing} refused by the database: {detail}")
    if code in SQLSTATE_ERRORS:
        kind = SQLSTATE_ERRORS[code]
        return kind(f"{doing} failed: {detail}")
    invalidated = isinstance(exc, OperationalError | DBAPIError) and getattr(
        exc, "connection_invalidated", False)
    if isinstance(exc, OSError | ConnectionError) or invalidated:
        return errors.DatabaseUnavailable(f"{doing} failed: database unreachable ({detail})")
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
                raise translate(exc, "connecting to the database") from exc
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
