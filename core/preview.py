"""Preview: what a prune would do, computed in SQL with the prune's own predicate and no locks.

Four read-only queries in one REPEATABLE READ snapshot, none of which loads candidates into
Python: the range (oldest/newest), one pass that counts candidates and blocked rows per age bin,
the per-table cascade of the first `limit` candidates, and one page of the oldest rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from core import errors
from core.db import Database, transaction
from core.repository.pruner import SweepRequest
from core.repository.pruner.statements import (
    aged,
    blocks,
    candidates,
    cascade_counts,
    local_settings,
    not_blocked,
)
from core.settings import PruneSettings

MAX_BINS = 60
BIN_WIDTHS = [timedelta(minutes=m) for m in (1, 5, 15, 60, 360)] + [
    timedelta(days=d) for d in (1, 7, 30, 91, 365)]
MAX_SAMPLE = 1_000


def bin_width(oldest: datetime, newest: datetime) -> timedelta:
    """The smallest round width that covers the range in at most MAX_BINS bins."""
    span = newest - oldest
    for width in BIN_WIDTHS:
        if span < width * MAX_BINS:
            return width
    return timedelta(days=-(-span.days // MAX_BINS) + 1)


@dataclass(frozen=True)
class HistogramBin:
    start: datetime
    end: datetime
    count: int


@dataclass(frozen=True)
class Preview:
    entity: str
    cutoff: datetime
    limit: int
    cascade_rbac: bool
    as_of: datetime  # the server's clock when the snapshot was taken
    candidates: int
    blocked: int
    blocked_by: dict[str, int]  # blocker reason -> rows it excludes (a row may have several)
    oldest: datetime | None
    newest: datetime | None
    bin_width: timedelta | None
    histogram: list[HistogramBin]
    cascade: dict[str, int]  # what a prune with `limit` would delete, per table
    sample: list[dict[str, Any]] = field(default_factory=list)
    sample_offset: int = 0

    @property
    def would_delete(self) -> int:
        return min(self.candidates, self.limit)

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "cutoff": self.cutoff.isoformat(),
            "limit": self.limit,
            "candidates": self.candidates,
            "blocked": self.blocked,
            "blocked_by": self.blocked_by,
            "oldest": self.oldest.isoformat() if self.oldest else None,
            "newest": self.newest.isoformat() if self.newest else None,
            "histogram": [{"start": b.start.isoformat(), "end": b.end.isoformat(),
                           "count": b.count} for b in self.histogram],
            "cascade": self.cascade,
            "sample": [{k: _jsonable(v) for k, v in row.items()} for row in self.sample],
        }


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, dict | list):
        return v
    return str(v)


async def preview(db: Database, req: SweepRequest, *, sample_size: int = 100,
                  sample_offset: int = 0, settings: PruneSettings | None = None) -> Preview:
    """What `execute(db, req)` would delete, read-only and without row locks.

    Counts, the age histogram (at most MAX_BINS bins), the per-table cascade of the first
    `req.limit` candidates and a page of `sample_size` oldest candidates from `sample_offset`;
    nothing proportional to the table is loaded into Python. Raises `InvalidArgument` for a bad
    page and another `PrunerError` when the database fails."""
    for name, value, top in (("sample_size", sample_size, MAX_SAMPLE),
                             ("sample_offset", sample_offset, 10**9)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
            raise errors.InvalidArgument(f"{name} must be a whole number from 0 to {top:,}")
    p = req.pruner
    ts, key = p.ts, p.key
    async with transaction(db, f"preview of {p.name}", snapshot=True) as conn:
        await conn.execute(local_settings(settings or PruneSettings()))
        as_of = (await conn.execute(sa.select(sa.func.now()))).scalar_one()
        # The first candidate each way along the prunable index, not min()/max() over all of
        # them: those cannot use the index through the blockers' anti-joins (a full pass).
        ends = candidates(req, limited=False).with_only_columns(ts).order_by(None)
        oldest, newest = (await conn.execute(sa.select(
            ends.order_by(ts, key).limit(1).scalar_subquery(),
            ends.order_by(ts.desc(), key.desc()).limit(1).scalar_subquery()))).one()

        # One pass over the aged rows: candidates per bin, blocked rows per blocker.
        width = bin_width(oldest, newest) if oldest is not None else None
        blocking = [blocks(b, key) for b in p.blockers]
        is_blocked = sa.or_(*blocking) if blocking else sa.false()
        bucket = (sa.func.date_bin(sa.literal(width, sa.Interval), ts,
                                   sa.literal(oldest, ts.type))
                  if width else sa.literal(None, ts.type))
        q = sa.select(
            bucket.label("bin"),
            sa.func.count().filter(sa.not_(is_blocked)).label("n"),
            sa.func.count().filter(is_blocked).label("blocked"),
            *(sa.func.count().filter(b).label(f"b{i}") for i, b in enumerate(blocking)),
        ).where(aged(req)).group_by(sa.literal_column("1"))
        rows = (await conn.execute(q)).all()

        cq, names = cascade_counts(req)
        crow = (await conn.execute(cq)).one()

        sample: list[dict[str, Any]] = []
        if sample_size:
            sq = (sa.select(p.table).where(aged(req), *not_blocked(p))
                  .order_by(ts, key).limit(sample_size).offset(sample_offset))
            sample = [dict(r._mapping) for r in (await conn.execute(sq)).all()]

    n_candidates = sum(r.n for r in rows)
    blocked = sum(r.blocked for r in rows)
    blocked_by = {b.reason: sum(r[3 + i] for r in rows) for i, b in enumerate(p.blockers)}
    histogram: list[HistogramBin] = []
    if width is not None:
        counts = {r.bin: r.n for r in rows if r.n}
        start = oldest
        while start <= newest:
            histogram.append(HistogramBin(start, start + width, counts.get(start, 0)))
            start += width
    return Preview(
        entity=p.name, cutoff=req.before, limit=req.limit, cascade_rbac=req.cascade_rbac,
        as_of=as_of, candidates=n_candidates, blocked=blocked, blocked_by=blocked_by, oldest=oldest,
        newest=newest, bin_width=width, histogram=histogram,
        cascade=dict(zip(names, crow, strict=True)), sample=sample, sample_offset=sample_offset,
    )
