"""Deployment history: append-only reconciler records, by `updated_at` (a retried
step refreshes it), as the platform's `reconcile_history` category. They name their rows
without a foreign key, so they outlive them; previews of those rows count them (Mentions)."""

from __future__ import annotations

import sqlalchemy as sa

from core.backendai.variants import per_release, variant
from core.repository.pruner import Pruner

NAME = "deployment_history"
CATEGORY = "reconcile_history"

VARIANTS: tuple[Pruner, ...] = per_release(lambda s: variant(
    s.model, name=NAME, table=s.deployment_history, terminal=sa.true(),
    timestamp="updated_at",
    description="Deployment history rows last updated before the cutoff"))
