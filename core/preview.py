"""Preview: what a prune would do, computed in SQL from the prune's own plan, without locks.

Read-only queries in one REPEATABLE READ snapshot, none of which loads candidates into Python:
the ends of the candidate range, one pass over the entity's terminal rows that counts each age
bin's classes (the next capped prune, candidates after it, blocked by reason, not old enough),
the per-table cascade of the first `limit` candidates (the prune's own walk, as counts), a page
of the oldest candidates and of blocked rows with their reasons, and the diagnostics an
operator needs before pruning (rows that can never qualify, a terminal condition that matches
nothing, the plan's warnings and references).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from core import errors
from core.db import Database, transaction
from core.histogram import BIN_WIDTHS as BIN_WIDTHS  # re-exported: the preview's API
from core.histogram import CLASSES as CLASSES
from core.histogram import MAX_BINS as MAX_BINS
from core.histogram import HistogramBin as HistogramBin
from core.histogram import bin_width as bin_width
from core.histogram import bins, classes, instant
from core.repository.pruner import SweepRequest
from core.repository.pruner.conditions import aged, blocking, not_blocked
from core.repository.pruner.plan import Plan, boundary_text, describe
from core.repository.pruner.planner import current_plan
from core.repository.pruner.result import plain
from core.repository.pruner.statements import (
    MENTION,
    candidate_rows,
    candidates,
    counts,
    local_settings,
    nullified,
)
from core.settings import PruneSettings

MAX_SAMPLE = 1_000
MAX_VALUES = 20  # distinct values shown when the terminal condition matches nothing
@dataclass(frozen=True)
class Preview:
    entity: str
    cutoff: datetime
    limit: int
    cascade_rbac: bool
    as_of: datetime  # the server's clock when the snapshot was taken
    candidates: int
    blocked: int
    blocked_by: dict[str, int]  # reason -> rows it excludes (a row may have several)
    oldest: datetime | None  # the oldest finite candidate
    newest: datetime | None
    bin_width: timedelta | None
    histogram: list[HistogramBin]  # bins from the oldest terminal row to now, cut at the cutoff
    cascade: dict[str, int]  # what a prune with `limit` would delete, per table
    updated: dict[str, int] = field(default_factory=dict)  # … and set to NULL
    mentions: dict[str, int] = field(default_factory=dict)  # rows (kept) that name them
    sample: list[dict[str, Any]] = field(default_factory=list)
    sample_offset: int = 0
    blocked_sample: list[dict[str, Any]] = field(default_factory=list)  # with "reasons"
    next_oldest: datetime | None = None  # the time range the next capped prune takes
    next_newest: datetime | None = None
    minus_infinity: int = 0  # candidates dated -infinity (oldest of all; not in the bins)
    young: int = 0  # terminal rows not older than the cutoff
    no_timestamp: int = 0  # terminal rows whose boundary is NULL: never prunable by age
    terminal_rows: int = 0  # rows the terminal condition matches, at any age
    values: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # when that is 0
    plan: list[str] = field(default_factory=list)  # the plan, as `pruner check` prints it
    warnings: list[str] = field(default_factory=list)
    boundary: str = ""

    @property
    def would_delete(self) -> int:
        return min(self.candidates, self.limit)

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity, "cutoff": self.cutoff.isoformat(), "limit": self.limit,
            "as_of": self.as_of.isoformat(), "candidates": self.candidates,
            "blocked": self.blocked, "blocked_by": self.blocked_by,
            "oldest": _jsonable(self.oldest), "newest": _jsonable(self.newest),
            "next_range": [_jsonable(self.next_oldest), _jsonable(self.next_newest)],
            "histogram": [{"start": b.start.isoformat(), "end": b.end.isoformat(),
                           "count": b.count, "next": b.next, "later": b.later,
                           "blocked": b.blocked, "young": b.young, "blocked_by": b.blocked_by}
                          for b in self.histogram],
            "cascade": self.cascade, "updated": self.updated, "mentions": self.mentions,
            "sample": [{k: _jsonable(v) for k, v in row.items()} for row in self.sample],
            "blocked_sample": [{k: _jsonable(v) for k, v in row.items()}
                               for row in self.blocked_sample],
            "minus_infinity": self.minus_infinity, "young": self.young,
            "no_timestamp": self.no_timestamp, "terminal_rows": self.terminal_rows,
            "values": self.values, "plan": self.plan, "warnings": self.warnings,
            "boundary": self.boundary,
        }


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, datetime):
        return _when(v)
    if isinstance(v, date):  # the driver reads ±infinity dates as date.max / date.min
        return "infinity" if v == date.max else "-infinity" if v == date.min else v.isoformat()
    if isinstance(v, dict | list):
        return v
    return plain(v) if not isinstance(v, tuple) else [_jsonable(x) for x in v]


def _when(v: datetime) -> str:
    """ISO text; the driver's stand-ins for ±infinity (naive datetime.max/min) say so."""
    if v.tzinfo is None and v in (datetime.max, datetime.min):
        return "infinity" if v == datetime.max else "-infinity"
    return v.isoformat()


async def cascade_counts(db: Database, req: SweepRequest,
                         settings: PruneSettings | None = None) -> dict[str, int]:
    """Per-table counts of what a prune of `req` (its first `limit` candidates) would delete,
    counted in SQL, read-only, without row locks."""
    async with transaction(db, f"counting what a prune of {req.pruner.name} deletes",
                           snapshot=True) as conn:
        plan = await current_plan(conn, req.pruner)
        await conn.execute(local_settings(settings or PruneSettings()))
        cq, names = counts(plan, req)
        row = (await conn.execute(cq)).one()
    return {n: int(v) for n, v in zip(names, row, strict=True) if v is not None}


async def preview(db: Database, req: SweepRequest, *, sample_size: int = 100,
                  sample_offset: int = 0, blocked_sample: int = 20,
                  settings: PruneSettings | None = None) -> Preview:
    """What `execute(db, req)` would delete, read-only and without row locks.

    Counts, the age histogram (at most about MAX_BINS bins, whatever the table holds), the
    per-table cascade of the first `req.limit` candidates, a page of `sample_size` oldest
    candidates from `sample_offset`, up to `blocked_sample` blocked rows with their reasons, and
    the diagnostics. Raises `InvalidArgument` for a bad page and another `PrunerError` when the
    database fails."""
    for name, value, top in (("sample_size", sample_size, MAX_SAMPLE),
                             ("sample_offset", sample_offset, 10**9),
                             ("blocked_sample", blocked_sample, MAX_SAMPLE)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
            raise errors.InvalidArgument(f"{name} must be a whole number from 0 to {top:,}")
    p = req.pruner
    async with transaction(db, f"preview of {p.name}", snapshot=True) as conn:
        plan = await current_plan(conn, p)
        await conn.execute(local_settings(settings or PruneSettings()))
        as_of = (await conn.execute(sa.select(sa.func.now()))).scalar_one()
        ts, keys = p.ts, p.key
        at = instant(plan)
        # the ends of the finite candidates, along the boundary's index (not min()/max() over
        # them: those cannot use it through the blockers' anti-joins)
        ends = candidates(plan, req, limited=False).with_only_columns(at).order_by(None) \
            .where(sa.func.isfinite(ts))
        oldest, newest = (await conn.execute(sa.select(
            ends.order_by(ts, *keys).limit(1).scalar_subquery(),
            ends.order_by(ts.desc(), *(k.desc() for k in keys)).limit(1).scalar_subquery()))
        ).one()
        # the last candidate the next capped prune takes: where "next" ends
        cut = (await conn.execute(candidates(plan, req, limited=False).add_columns(
            at.label("at")).offset(req.limit - 1).limit(1))).first()
        # the domain: the oldest finite terminal row to now, bins aligned on the cutoff
        lo = (await conn.execute(sa.select(at).where(p.terminal, sa.func.isfinite(ts))
                                 .order_by(ts).limit(1))).scalar()
        width = bin_width(min(lo, req.before), as_of) if lo is not None else None
        rows, totals = await classes(conn, plan, req, cut, width, lo)
        if len(plan.steps) > 1 or plan.mentions or req.excluded or plan.family is not None:
            cq, names = counts(plan, req)
            crow = tuple((await conn.execute(cq)).one())
        else:  # nothing goes with the rows (no family either): the capped candidates, known
            names, crow = [plan.root.name], (min(req.limit, int(totals["cand"])),)
        sample: list[dict[str, Any]] = []
        if sample_size:
            sq = (sa.select(p.table).where(aged(plan, req), *not_blocked(plan, req))
                  .order_by(ts, *keys).limit(sample_size).offset(sample_offset))
            sample = [dict(r._mapping) for r in (await conn.execute(sq)).all()]
        blocked_rows = await _blocked_sample(conn, plan, req, blocked_sample) \
            if blocked_sample and plan.blocks else []
        values = await _values(conn, plan) if not totals["terminal"] else {}
        updated = await _updated(conn, plan, req) if plan.nullify else {}

    histogram = bins(plan, rows, width, lo, req.before, as_of)
    blocked_by = {b.reason: int(totals[f"b{i}"]) for i, b in enumerate(plan.blocks)}
    if plan.family is not None:
        blocked_by["a descendant cannot be pruned (self-referencing foreign key)"] = \
            int(totals["fam"])
    return Preview(
        entity=p.name, cutoff=req.before, limit=req.limit, cascade_rbac=req.cascade_rbac,
        as_of=as_of, candidates=int(totals["cand"]), blocked=int(totals["blocked"]),
        blocked_by=blocked_by, oldest=oldest, newest=newest, bin_width=width,
        histogram=histogram, cascade={n: int(v) for n, v in zip(names, crow, strict=True)
                                      if not n.startswith(MENTION)},
        mentions={n.removeprefix(MENTION): int(v) for n, v in zip(names, crow, strict=True)
                  if n.startswith(MENTION)},
        updated=updated, sample=sample, sample_offset=sample_offset,
        blocked_sample=blocked_rows,
        next_oldest=oldest if int(totals["cand"]) else None,
        next_newest=(cut.at if cut is not None else newest) if int(totals["cand"]) else None,
        minus_infinity=int(totals["minus_inf"]), young=int(totals["young"]),
        no_timestamp=int(totals["no_ts"]), terminal_rows=int(totals["terminal"]),
        values=values, plan=describe(plan, req.cascade_rbac), warnings=list(plan.warnings),
        boundary=boundary_text(plan))


async def _blocked_sample(conn: Any, plan: Plan, req: SweepRequest, n: int,
                          ) -> list[dict[str, Any]]:
    p = plan.pruner
    blocks = [blocking(plan, b) for b in plan.blocks]
    q = (sa.select(*p.key, p.ts, *(b.label(f"b{i}") for i, b in enumerate(blocks)))
         .where(aged(plan, req), sa.or_(*blocks)).order_by(p.ts, *p.key).limit(n))
    out = []
    for r in await conn.execute(q):
        m = r._mapping
        row = {c.name: m[c.name] for c in (*p.key, p.ts)}
        row["reasons"] = [b.reason for i, b in enumerate(plan.blocks) if m[f"b{i}"]]
        out.append(row)
    return out


async def _values(conn: Any, plan: Plan) -> dict[str, list[tuple[str, int]]]:
    """The terminal condition matches no row at all: show what the columns it reads hold."""
    p = plan.pruner
    cols = [c for c in p.table.c if any(c is x for x in _columns_in(p.terminal))]
    out: dict[str, list[tuple[str, int]]] = {}
    for c in cols:
        q = (sa.select(sa.cast(c, sa.Text), sa.func.count()).group_by(sa.literal_column("1"))
             .order_by(sa.func.count().desc()).limit(MAX_VALUES))
        out[c.name] = [(str(v), int(n)) for v, n in await conn.execute(q)]
    return out


def _columns_in(cond: ColumnElement[Any]) -> list[Any]:
    from sqlalchemy.sql.visitors import iterate

    return [e for e in iterate(cond) if isinstance(e, sa.Column)]


async def _updated(conn: Any, plan: Plan, req: SweepRequest) -> dict[str, int]:
    """Rows the first `limit` candidates' prune would set to NULL, per table."""
    root = candidate_rows(plan, req)
    out: dict[str, int] = {}
    for n in plan.nullify:
        if n.step != 0:
            continue
        cond = nullified(plan, n, root, n.table)
        count = (await conn.execute(sa.select(sa.func.count()).select_from(n.table)
                                    .where(cond))).scalar_one()
        out[n.fk.table] = out.get(n.fk.table, 0) + int(count)
    return out
