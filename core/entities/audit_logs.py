"""Audit log rows: append-only, so every row is terminal and only age decides."""

import sqlalchemy as sa

from core.reference_schema import audit_logs
from core.repository.pruner import Pruner

PRUNER = Pruner(
    name="audit_logs",
    table=audit_logs,
    terminal=sa.true(),  # append-only: nothing ever changes state
    timestamp="created_at",
    description="Audit log rows older than the cutoff",
)
