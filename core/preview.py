"""Preview: what a prune would do, computed in SQL with the prune's own predicate and no locks.

Four read-only queries in one REPEATABLE READ snapshot, none of which loads candidates into
Python: the range (oldest/newest), one pass that counts candidates and blocked rows per age bin,
the per-table cascade of the first `limit` candidates, and one page of the oldest rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from core import errors
from core.db import DB_ERRORS, Database, transaction, translate
from core.reference_schema import association_scopes_entities as rbac
from core.repository.pruner import (
    DEFAULT_LIMIT,
    Pruner,
    PruneSettings,
    check_before,
    check_flag,
    check_limit,
    id_array,
    set_local_settings,
    single_key,
    text_ids_once,
)

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

    def histogram_frame(self):  # noqa: ANN201 - pandas is imported lazily
        import pandas as pd

        rows = [{"start": b.start, "end": b.end, "count": b.count,
                 "age_days_from": (self.as_of - b.end).total_seconds() / 86400,
                 "age_days_to": (self.as_of - b.start).total_seconds() / 86400}
                for b in self.histogram]
        return pd.DataFrame(rows, columns=["start", "end", "count", "age_days_from",
                                           "age_days_to"])

    def sample_frame(self):  # noqa: ANN201
        import pandas as pd

        return pd.DataFrame(self.sample)

    def cascade_frame(self):  # noqa: ANN201
        import pandas as pd

        return pd.DataFrame({"table": list(self.cascade), "rows": list(self.cascade.values())})


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, dict | list):
        return v
    return str(v)


def cascade_query(p: Pruner, before: datetime, limit: int, cascade_rbac: bool,
                  ids: Sequence[Any] | None = None) -> tuple[sa.Select, list[str]]:
    """Per-table counts of what a prune of the first `limit` candidates deletes — the same
    predicates as `prune_statement`, as SELECTs."""
    cand = p.candidates(before, limit, ids).cte("cand").prefix_with("MATERIALIZED")
    cand_ids = id_array(cand.c.id, cand)
    counts: dict[str, sa.ScalarSelect[Any]] = {
        p.table.name: sa.select(sa.func.count()).select_from(cand).scalar_subquery()}
    child_keys_text = {}
    for child in p.children:
        hit = child.references(cand_ids)
        counts[child.table.name] = (sa.select(sa.func.count()).select_from(child.table)
                                    .where(hit).scalar_subquery())
        if child.rbac_entity_type and cascade_rbac:
            ids = sa.select(single_key(child.table)).where(hit).subquery()
            child_keys_text[child.rbac_entity_type] = text_ids_once(ids.c[0], ids,
                                                                    f"txt_{child.table.name}")
    match = (p.rbac_match(text_ids_once(cand.c.id, cand, "txt_cand"), child_keys_text)
             if cascade_rbac else None)
    if match is not None:
        counts[rbac.name] = (sa.select(sa.func.count()).select_from(rbac).where(match)
                             .scalar_subquery())
    names = list(counts)
    return sa.select(*(c.label(f"n_{i}") for i, c in enumerate(counts.values()))), names


async def preview(
    db: Database,
    pruner: Pruner,
    *,
    before: datetime,
    limit: int | None = None,
    cascade_rbac: bool = True,
    sample_size: int = 100,
    sample_offset: int = 0,
    ids: Iterable[Any] | None = None,
    settings: PruneSettings | None = None,
) -> Preview:
    """What `execute_pruner` with the same arguments would delete, read-only.

    With `ids`, only those rows are considered (what a prune of selected ids would delete);
    `limit` then defaults to their number."""
    settings = settings or PruneSettings.from_env()
    before = check_before(before)
    wanted = None if ids is None else pruner.coerce_ids(ids)
    if wanted is not None and limit is None:
        limit = max(len(wanted), 1)
    limit = check_limit(DEFAULT_LIMIT if limit is None else limit, settings)
    cascade_rbac = check_flag(cascade_rbac, "cascade_rbac")
    for name, value, top in (("sample_size", sample_size, MAX_SAMPLE),
                             ("sample_offset", sample_offset, 10**9)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
            raise errors.InvalidArgument(f"{name} must be a whole number from 0 to {top:,}")
    p, ts = pruner, pruner.ts
    try:
        async with transaction(db, snapshot=True) as conn:
            await set_local_settings(conn, settings)
            as_of = (await conn.execute(sa.select(sa.func.now()))).scalar_one()
            # The first candidate each way along the prunable index, not min()/max() over all of
            # them: those cannot use the index through the blockers' anti-joins (a full pass).
            ends = p.candidates(before, ids=wanted).with_only_columns(ts).order_by(None)
            oldest, newest = (await conn.execute(sa.select(
                ends.order_by(ts, p.key).limit(1).scalar_subquery(),
                ends.order_by(ts.desc(), p.key.desc()).limit(1).scalar_subquery()))).one()

            # One pass over the aged rows: candidates per bin, blocked rows per blocker.
            width = bin_width(oldest, newest) if oldest is not None else None
            blocks = [b.blocks(p.key) for b in p.blockers]
            is_blocked = sa.or_(*blocks) if blocks else sa.false()
            bucket = (sa.func.date_bin(sa.literal(width, sa.Interval), ts,
                                       sa.literal(oldest, ts.type))
                      if width else sa.literal(None, ts.type))
            aged = sa.select(
                bucket.label("bin"),
                sa.func.count().filter(sa.not_(is_blocked)).label("n"),
                sa.func.count().filter(is_blocked).label("blocked"),
                *(sa.func.count().filter(b).label(f"b{i}") for i, b in enumerate(blocks)),
            ).where(p.aged(before, wanted)).group_by(sa.literal_column("1"))
            rows = (await conn.execute(aged)).all()

            cq, names = cascade_query(p, before, limit, cascade_rbac, wanted)
            crow = (await conn.execute(cq)).one()

            sample: list[dict[str, Any]] = []
            if sample_size:
                # One NOT EXISTS per blocker (anti-joins on FK indexes), as in candidates():
                # NOT (a OR b) would hash every blocker table in full for a page of 100 rows.
                sq = sa.select(p.table).where(p.aged(before, wanted),
                                              *(sa.not_(b.blocks(p.key)) for b in p.blockers))
                sq = sq.order_by(ts, p.key).limit(sample_size).offset(sample_offset)
                sample = [dict(r._mapping) for r in (await conn.execute(sq)).all()]
    except DB_ERRORS as exc:
        raise translate(exc, f"preview of {p.name}") from exc

    candidates = sum(r.n for r in rows)
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
        entity=p.name, cutoff=before, limit=limit, cascade_rbac=cascade_rbac, as_of=as_of,
        candidates=candidates, blocked=blocked, blocked_by=blocked_by, oldest=oldest,
        newest=newest, bin_width=width, histogram=histogram,
        cascade=dict(zip(names, crow, strict=True)), sample=sample, sample_offset=sample_offset,
    )
