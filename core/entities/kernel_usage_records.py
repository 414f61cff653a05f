"""Kernel usage records: append-only accounting rows, by the end of the period they cover
(`period_end`), as the platform's `usage_records` category. They name kernels and sessions
without a foreign key; previews of sessions count them (Mentions)."""

from __future__ import annotations

import sqlalchemy as sa

from core.backendai.variants import per_release, variant
from core.repository.pruner import Pruner

NAME = "kernel_usage_records"
CATEGORY = "usage_records"

VARIANTS: tuple[Pruner, ...] = per_release(lambda s: variant(
    s.model, name=NAME, table=s.kernel_usage_records, terminal=sa.true(),
    timestamp="period_end", description="Kernel usage records whose period ended before the "
                                        "cutoff"))
