"""The platform's own retention sweep, side by side with the pack.

Since 26.8 the manager can delete old rows itself: one row per category in `retention_policies`
(`category`, `retention_period`, `enabled`, `last_swept_at`), swept by the leader every hour
when enabled. `policies(db, covers)` reads them with the pack's pruners that cover each
category (`core.entities.RETENTION`: pruner name -> category); `cutoff_for_policy(db, category)`
turns a category's period into a cutoff (`now() - retention_period`, on the database's clock),
so a preview or prune can use exactly the platform's horizon (`--policy sessions`).

All SQL here is fixed text with bound values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from core import errors
from core.db import Database, transaction

# The categories the platform knows (26.8 / 26.9: common/data/retention/types.py), in its order.
CATEGORIES = ("logs", "login", "reconcile_history", "roles_invitations", "deployments",
              "sessions", "usage_records", "usage_buckets")


@dataclass(frozen=True)
class Policy:
    """One category of the platform's sweep and the pack's pruners that cover the same rows."""

    category: str
    period: timedelta  # extract(epoch): a year is 365.25 days, a month 30 days
    period_text: str  # as PostgreSQL prints the interval ("1 year", "90 days")
    enabled: bool
    last_swept_at: datetime | None
    pruners: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"category": self.category, "period_seconds": int(self.period.total_seconds()),
                "period": self.period_text, "enabled": self.enabled,
                "last_swept_at": None if self.last_swept_at is None
                else self.last_swept_at.isoformat(),
                "pruners": list(self.pruners)}


_EXISTS = sa.text("SELECT to_regclass('retention_policies') IS NOT NULL")

# retention_period as seconds: a year is 365.25 days in extract(epoch) (PostgreSQL's own rule)
_POLICIES = sa.text("""
SELECT category, extract(epoch FROM retention_period)::float8 AS seconds,
       retention_period::text AS period_text, enabled,
       last_swept_at
FROM retention_policies ORDER BY category
""")

_CUTOFF = sa.text("""
SELECT now() - retention_period AS cutoff, retention_period < interval '0' AS negative
FROM retention_policies WHERE category = :category
""")


async def has_policies(db: Database) -> bool:
    """Whether this database has the platform's `retention_policies` table (26.8 and later)."""
    async with transaction(db, "looking for retention_policies") as conn:
        return bool((await conn.execute(_EXISTS)).scalar())


async def policies(db: Database, covers: Mapping[str, str] | None = None) -> list[Policy]:
    """Every category in `retention_policies` (known ones in the platform's order, then any
    other), each with the names of the pruners `covers` maps to it; [] when the database has no
    such table (a release before 26.8, or not Backend.AI)."""
    by_category: dict[str, list[str]] = {}
    for name, category in (covers or {}).items():
        by_category.setdefault(category, []).append(name)
    async with transaction(db, "reading retention_policies", snapshot=True) as conn:
        if not (await conn.execute(_EXISTS)).scalar():
            return []
        rows = (await conn.execute(_POLICIES)).all()
    order = {c: i for i, c in enumerate(CATEGORIES)}
    out = [Policy(category=r.category, period=timedelta(seconds=float(r.seconds)),
                  period_text=str(r.period_text), enabled=bool(r.enabled),
                  last_swept_at=r.last_swept_at,
                  pruners=tuple(sorted(by_category.get(r.category, ()))))
           for r in rows]
    return sorted(out, key=lambda p: (order.get(p.category, len(order)), p.category))


async def cutoff_for_policy(db: Database, category: object) -> datetime:
    """The cutoff the platform's sweep of `category` uses now: the database's `now()` minus the
    category's `retention_period`.

    Raises InvalidArgument for a category the platform does not know or a negative period,
    SchemaMissing when the database has no `retention_policies` table or no row for the
    category (a fresh `schema oneshot` database has none: the platform seeds them by
    migration)."""
    if not isinstance(category, str) or category not in CATEGORIES:
        shown = repr(category) if len(repr(category)) <= 40 else repr(category)[:37] + "..."
        raise errors.InvalidArgument(
            f"unknown retention category {shown}; known: {', '.join(CATEGORIES)}")
    async with transaction(db, f"reading the {category} retention policy") as conn:
        if not (await conn.execute(_EXISTS)).scalar():
            raise errors.SchemaMissing(
                "this database has no retention_policies table (Backend.AI 26.8 or later has "
                "it); give a cutoff instead of a policy")
        row = (await conn.execute(_CUTOFF, {"category": category})).first()
    if row is None:
        raise errors.SchemaMissing(
            f"retention_policies has no row for {category!r} in this database; give a cutoff "
            "instead of a policy")
    if row.negative:
        raise errors.InvalidArgument(
            f"the {category} retention period is negative; it cannot be used as a cutoff")
    cutoff: datetime = row.cutoff
    return cutoff
