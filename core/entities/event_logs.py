"""Event log rows: append-only; only age (`created_at`) decides, as in the platform's `logs`."""

from __future__ import annotations

import sqlalchemy as sa

from core.backendai.variants import per_release, variant
from core.repository.pruner import Pruner

NAME = "event_logs"
CATEGORY = "logs"

VARIANTS: tuple[Pruner, ...] = per_release(lambda s: variant(
    s.model, name=NAME, table=s.event_logs, terminal=sa.true(), timestamp="created_at",
    description="Event log rows older than the cutoff"))
