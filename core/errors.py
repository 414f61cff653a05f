"""Typed errors. Every message is meant to be shown to an operator as is.

An error whose class says `transient = True` came from contention or a passing fault (a lock,
a deadlock, a dropped connection, rows that changed while the prune ran): the same request may
well go through when tried again, and the sweeps do so (with backoff, journaled).
"""

from __future__ import annotations


class PrunerError(Exception):
    """Base class for every error this project raises on purpose. `diagnostics` carries what
    PostgreSQL said about a database error (sqlstate, table, constraint, column), when it did."""

    transient = False
    diagnostics: dict[str, str] = {}  # noqa: RUF012 - replaced per instance, never mutated


class InvalidArgument(PrunerError, ValueError):
    """A caller passed a bad value (limit, cutoff, ids, entity name…). Nothing was changed."""


class DefinitionError(PrunerError, TypeError):
    """A spec (Pruner, Creator…) was declared wrongly, e.g. a composite primary key."""


class UnknownEntity(InvalidArgument):
    """No pruner is registered under that name."""


class PruneFailed(PrunerError):
    """The prune ran but did not commit; the transaction was rolled back and nothing was deleted."""


class LockTimeout(PruneFailed):
    """A row the prune had to delete stayed locked longer than lock_timeout."""

    transient = True


class StatementTimeout(PruneFailed):
    """The prune ran longer than statement_timeout (contention, or a row too big for one
    statement: a drain narrows the batch down to such a row and sets it aside)."""


class Deadlock(PruneFailed):
    """PostgreSQL broke a deadlock by cancelling the prune."""

    transient = True


class SerializationFailure(PruneFailed):
    """A concurrent change made the prune's view of the rows impossible to keep."""

    transient = True


class IntegrityFailure(PruneFailed):
    """The database refused the delete (a foreign key or another constraint)."""


class RowsAppeared(IntegrityFailure):
    """A row referencing a pruned row was committed while the prune ran (a foreign key check
    failed): nothing was deleted; a retry sees the new row."""

    transient = True


class GuardTripped(PruneFailed):
    """A row the prune deleted no longer passed its guard (it changed while the prune ran):
    everything was rolled back; a retry leaves that parent blocked."""

    transient = True


class DatabaseUnavailable(PrunerError):
    """The database could not be reached, refused our login, or went away mid-call."""


class ConnectionLost(DatabaseUnavailable):
    """The connection broke mid-call (the server restarted, the backend was terminated): the
    open transaction was rolled back."""

    transient = True


class PermissionDenied(PruneFailed):
    """The database role may not do this (e.g. a read-only role asked to delete)."""


class SchemaMissing(PrunerError):
    """A table the pruner needs does not exist in this database."""


class Cancelled(PrunerError):
    """An operator or a caller cancelled the operation before it finished."""
