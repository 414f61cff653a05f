"""The sweep request: one validated, immutable description of what a prune, preview, rehearsal or
drain batch is asked to do, built once at each entry point and passed down unchanged.

    req = sweep(pruner, before=cutoff, limit=1_000)            # raises InvalidArgument
    await preview(engine, req); await execute(engine, req)
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from core import errors
from core.repository.pruner.declaration import Pruner
from core.settings import DEFAULT_LIMIT, PruneSettings


@dataclass(frozen=True)
class SweepRequest:
    """What one sweep may touch: `pruner`'s terminal rows older than `before` (timezone-aware,
    not in the future), at most `limit` of them (1..max_limit), only `ids` when given (coerced
    to the key's type, order kept, repeats dropped), with their RBAC rows when `cascade_rbac`.

    Build it with `sweep()`: the constructor does not validate."""

    pruner: Pruner
    before: datetime
    limit: int
    ids: tuple[Any, ...] | None = None
    cascade_rbac: bool = True
    excluded: tuple[Any, ...] = ()  # keys set aside (parked rows): never candidates


def sweep(pruner: Pruner, *, before: datetime, limit: int | None = None,
          ids: Iterable[Any] | None = None, cascade_rbac: bool = True,
          settings: PruneSettings | None = None, now: datetime | None = None) -> SweepRequest:
    """A validated `SweepRequest`; bad input raises `core.errors.InvalidArgument`.

    `limit` defaults to 1,000, or to the number of `ids` when ids are given; it may not exceed
    `settings.max_limit` (100,000 unless configured)."""
    if not isinstance(pruner, Pruner):
        raise errors.InvalidArgument(f"not a Pruner: {type(pruner).__name__}")
    bounds = settings or PruneSettings()
    before = check_before(before, now=now)
    cascade_rbac = check_flag(cascade_rbac, "cascade_rbac")
    wanted: tuple[Any, ...] | None = None
    if ids is not None:
        wanted = tuple(coerce_ids(pruner, ids))
        if not wanted:
            raise errors.InvalidArgument("no ids given")
        if len(wanted) > bounds.max_limit:
            raise errors.InvalidArgument(
                f"{len(wanted):,} ids given; at most {bounds.max_limit:,} per prune")
        limit = len(wanted) if limit is None else limit
    limit = check_limit(DEFAULT_LIMIT if limit is None else limit, bounds.max_limit)
    return SweepRequest(pruner=pruner, before=before, limit=limit, ids=wanted,
                        cascade_rbac=cascade_rbac)


def check_before(before: Any, *, now: datetime | None = None) -> datetime:
    if not isinstance(before, datetime):
        raise errors.InvalidArgument(
            f"before must be a timezone-aware datetime, got {type(before).__name__}"
        )
    if before.tzinfo is None or before.utcoffset() is None:
        raise errors.InvalidArgument(
            "before must be timezone-aware (e.g. 2026-01-01T00:00:00+00:00); naive times are "
            "ambiguous"
        )
    try:
        before.astimezone(UTC)
    except OverflowError:
        raise errors.InvalidArgument(f"before ({before.isoformat()}) is out of range") from None
    now = now or datetime.now(UTC)
    if before > now + timedelta(seconds=1):
        raise errors.InvalidArgument(
            f"before ({before.isoformat()}) is in the future; a cutoff must be now or earlier"
        )
    return before


def check_limit(limit: Any, max_limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise errors.InvalidArgument(f"limit must be a whole number, got {limit!r}")
    if not 1 <= limit <= max_limit:
        raise errors.InvalidArgument(f"limit must be between 1 and {max_limit:,} (got {limit:,})")
    return limit


def check_flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise errors.InvalidArgument(f"{name} must be true or false, got {value!r}")
    return value


# ------------------------------------------------------------------------------ ids
def coerce_ids(pruner: Pruner, ids: Iterable[Any]) -> list[Any]:
    """Operator-supplied ids as values of the key's type, order kept, repeats dropped. With a
    composite key each id is a sequence of one value per key column (or its JSON array text,
    as the CSV export writes it), and comes back as a tuple."""
    if isinstance(ids, str | bytes):
        raise errors.InvalidArgument("ids must be a list of ids, not one string")
    if not isinstance(ids, Iterable):
        raise errors.InvalidArgument(f"ids must be a list of ids, got {type(ids).__name__}")
    cols = pruner.key
    out: dict[Any, None] = {}
    for raw in ids:
        if len(cols) == 1:
            out[_coerce_column(raw, cols[0], pruner.name)] = None
            continue
        parts = _parts(raw, len(cols), pruner.name)
        out[tuple(_coerce_column(v, c, pruner.name) for v, c in zip(parts, cols,
                                                                  strict=True))] = None
    return list(out)


def _parts(raw: Any, n: int, entity: str) -> list[Any]:
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
    if isinstance(value, list | tuple) and len(value) == n:
        return list(value)
    shown = repr(raw) if len(repr(raw)) <= 60 else repr(raw)[:57] + "..."
    raise errors.InvalidArgument(
        f"{shown} is not a valid {entity} id: the key has {n} columns, give a list of {n} "
        "values (e.g. a JSON array)")


def _coerce_column(raw: Any, col: sa.Column[Any], entity: str) -> Any:
    key_type = col.type
    ptype = key_type.python_type if _has_python_type(key_type) else str
    value = _coerce_one(raw, ptype, entity)
    bits = _int_bits(key_type)
    if bits and not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        raise errors.InvalidArgument(
            f"{raw!r} is not a valid {entity} id (out of range for {bits}-bit keys)")
    return value


def _int_bits(t: sa.types.TypeEngine[Any]) -> int:
    """The width of an integer key column (0 for other types)."""
    if isinstance(t, sa.BigInteger):
        return 64
    if isinstance(t, sa.SmallInteger):
        return 16
    return 32 if isinstance(t, sa.Integer) else 0


def _has_python_type(t: sa.types.TypeEngine[Any]) -> bool:
    try:
        t.python_type  # noqa: B018
    except NotImplementedError:
        return False
    return True


def _coerce_one(raw: Any, ptype: type, entity: str) -> Any:
    shown = repr(raw) if len(repr(raw)) <= 60 else repr(raw)[:57] + "..."
    try:
        if ptype is uuid.UUID:
            if isinstance(raw, uuid.UUID):
                return raw
            if isinstance(raw, str):
                return uuid.UUID(raw.strip())
        elif ptype is int:
            if isinstance(raw, int) and not isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and re.fullmatch(r"\s*[+-]?\d{1,20}\s*", raw):
                return int(raw)
        elif ptype is str:
            if isinstance(raw, str) and raw != "" and "\x00" not in raw:
                return raw
        elif ptype is datetime:
            if isinstance(raw, datetime) and raw.tzinfo is not None:
                return raw
            if isinstance(raw, str):
                parsed = datetime.fromisoformat(raw.strip())
                if parsed.tzinfo is not None:
                    return parsed
        elif isinstance(raw, ptype):
            return raw
    except (ValueError, AttributeError):
        pass
    raise errors.InvalidArgument(f"{shown} is not a valid {entity} id ({ptype.__name__})")
