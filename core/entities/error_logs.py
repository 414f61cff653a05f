"""Error log rows: append-only; only age (`created_at`) decides, read or not, cleared or not (as
the platform's `logs` category). 26.8 allows a NULL `created_at`: such a row never qualifies."""

from __future__ import annotations

import sqlalchemy as sa

from core.backendai.variants import per_release, variant
from core.repository.pruner import Pruner

NAME = "error_logs"
CATEGORY = "logs"

VARIANTS: tuple[Pruner, ...] = per_release(lambda s: variant(
    s.model, name=NAME, table=s.error_logs, terminal=sa.true(), timestamp="created_at",
    description="Error log rows older than the cutoff"))
