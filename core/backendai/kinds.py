"""The shapes most pack entities share, as one call each: a table pruned by one boundary column,
with a terminal condition on its own columns (none: every row is terminal, as in append-only
histories) and, optionally, FK-less rows that go with it (Links).

    VARIANTS = table_pruner("route_history", "route_history", "updated_at", "Route history …")
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from core.backendai.schema import Schema
from core.backendai.variants import per_release, variant
from core.repository.pruner import Link, Pruner


class Entity(NamedTuple):
    """One entity of the pack: its pruner name, the platform's retention category covering it
    (None: none does), and its declarations, one per model (`registry.resolve` picks)."""

    name: str
    category: str | None
    variants: tuple[Pruner, ...]


Terminal = Callable[[sa.Table], ColumnElement[bool]]
Links = Callable[[Schema, sa.Table], Sequence[Link]]


def table_pruner(name: str, table: str, timestamp: str, description: str, *,
                 terminal: Terminal | None = None, links: Links | None = None,
                 ) -> tuple[Pruner, ...]:
    """One declaration per release whose schema has `table` (a `Schema` attribute): rows where
    `terminal(table)` holds (default: every row) are pruned by `timestamp`, with `links`."""
    def declare(s: Schema) -> Pruner | None:
        t = getattr(s, table)
        if t is None:
            return None
        return variant(s.model, name=name, table=t,
                       terminal=sa.true() if terminal is None else terminal(t),
                       timestamp=timestamp, links=tuple(links(s, t)) if links else (),
                       description=description)

    return per_release(declare)


def usage_buckets(name: str, bucket_type: str) -> tuple[Pruner, ...]:
    """A usage bucket table by `period_end` (a DATE), its FK-less `usage_bucket_entries`
    (`bucket_id`, with `bucket_type` naming the bucket table) going with each bucket."""
    description = (f"{bucket_type.capitalize()} usage buckets (and their entries) whose period "
                   "ended before the cutoff")
    return table_pruner(name, name, "period_end", description, links=lambda s, t: (
        Link(s.usage_bucket_entries, "bucket_id", "bucket_type", bucket_type, rbac=False),))
