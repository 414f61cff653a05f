"""Typed errors. Every message is meant to be shown to an operator as is."""

from __future__ import annotations


class PrunerError(Exception):
    """Base class for every error this project raises on purpose."""


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


class StatementTimeout(PruneFailed):
    """The prune ran longer than statement_timeout."""


class IntegrityFailure(PruneFailed):
    """The database refused the delete (a foreign key or another constraint)."""


class DatabaseUnavailable(PrunerError):
    """The database could not be reached, refused our login, or went away mid-call."""


class PermissionDenied(PruneFailed):
    """The database role may not do this (e.g. a read-only role asked to delete)."""


class SchemaMissing(PrunerError):
    """A table the pruner needs does not exist in this database."""


class Cancelled(PrunerError):
    """An operator or a caller cancelled the operation before it finished."""
