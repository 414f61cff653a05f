"""Audit log rows: append-only, so every row is terminal and only age (`created_at`) decides.

The real releases key them by uuid (26.9: uuid v7); 26.9's `audit_log_scopes` cascade (catalog,
counted). The modelled schema keys them by a bigint identity.
"""

from __future__ import annotations

import sqlalchemy as sa

from core.backendai.facts import MODELLED
from core.backendai.variants import per_release, variant
from core.reference_schema import audit_logs
from core.repository.pruner import Pruner

NAME = "audit_logs"
CATEGORY = "logs"

MODELLED_PRUNER = variant(
    MODELLED, name=NAME, table=audit_logs,
    terminal=sa.true(),  # append-only: nothing ever changes state
    timestamp="created_at",
    description="Audit log rows older than the cutoff",
)

VARIANTS: tuple[Pruner, ...] = (MODELLED_PRUNER, *per_release(lambda s: variant(
    s.model, name=NAME, table=s.audit_logs, terminal=sa.true(), timestamp="created_at",
    description="Audit log rows (and their scopes) older than the cutoff")))
