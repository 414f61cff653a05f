"""The reference schema, modelled on a Backend.AI-style manager database.

Only what pruning needs is modelled: statuses, the timestamps that `before` bounds, and the foreign
keys whose ON DELETE behaviour decides the order of a prune. Every FK column is indexed so that
cascades and blocker checks are index lookups, and each prunable table has a partial index on its
terminal rows by timestamp so that candidate selection reads only candidates.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = sa.MetaData()

SESSION_STATUSES = (
    "PENDING", "SCHEDULED", "PREPARING", "PULLING", "PREPARED", "CREATING", "RUNNING",
    "RESTARTING", "RUNNING_DEGRADED", "TERMINATING", "TERMINATED", "ERROR", "CANCELLED",
)
KERNEL_STATUSES = SESSION_STATUSES + ("BUILDING", "RESIZING", "SUSPENDED")
# The "dead" set: nothing on the platform will ever act on these rows again.
DEAD_STATUSES = ("TERMINATED", "CANCELLED")

VFOLDER_STATUSES = (
    "ready", "performing", "cloning", "mounted", "error",
    "delete-pending", "delete-ongoing", "delete-complete", "delete-error",
)
# Storage is gone (or given up on); only the database row is left.
VFOLDER_HARD_DELETED = ("delete-complete", "delete-error")


def _uuid_pk() -> sa.Column[Any]:
    return sa.Column("id", UUID(as_uuid=True), primary_key=True,
                     server_default=sa.text("gen_random_uuid()"))


def _ts(name: str, **kw: Any) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def _status_check(table: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    return sa.CheckConstraint(sa.column("status").in_(values), name=f"ck_{table}_status")


sessions = sa.Table(
    "sessions", metadata,
    _uuid_pk(),
    sa.Column("name", sa.String(64)),
    sa.Column("user_uuid", UUID(as_uuid=True), nullable=False),
    sa.Column("group_id", UUID(as_uuid=True), nullable=False),
    sa.Column("status", sa.String(32), nullable=False, server_default="PENDING"),
    sa.Column("result", sa.String(16), nullable=False, server_default="UNDEFINED"),
    _ts("created_at", nullable=False, server_default=sa.func.now()),
    _ts("terminated_at", index=True),
    _status_check("sessions", SESSION_STATUSES),
    sa.Index("ix_sessions_status", "status"),
    sa.Index("ix_sessions_prunable", "terminated_at", "id",
             postgresql_where=sa.column("status").in_(DEAD_STATUSES)),
)

kernels = sa.Table(
    "kernels", metadata,
    _uuid_pk(),
    # No ON DELETE action: kernels must go before their session.
    sa.Column("session_id", UUID(as_uuid=True), sa.ForeignKey("sessions.id"), nullable=False,
              index=True),
    sa.Column("cluster_role", sa.String(16), nullable=False, server_default="main"),
    sa.Column("status", sa.String(32), nullable=False, server_default="PENDING"),
    _ts("created_at", nullable=False, server_default=sa.func.now()),
    _ts("terminated_at", index=True),
    _status_check("kernels", KERNEL_STATUSES),
    # Kernels that still live, by session: the "has a live kernel" blocker probes this small index
    # (index-only) instead of every kernel of every candidate.
    sa.Index("ix_kernels_alive_by_session", "session_id",
             postgresql_where=sa.column("status").not_in(DEAD_STATUSES)),
)

session_dependencies = sa.Table(
    "session_dependencies", metadata,
    sa.Column("session_id", UUID(as_uuid=True),
              sa.ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("depends_on", UUID(as_uuid=True),
              sa.ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True, index=True),
)

routings = sa.Table(
    "routings", metadata,
    _uuid_pk(),
    sa.Column("endpoint", UUID(as_uuid=True), nullable=False),
    # RESTRICT: a session still routed to must never be deleted.
    sa.Column("session", UUID(as_uuid=True), sa.ForeignKey("sessions.id", ondelete="RESTRICT"),
              index=True),
    sa.Column("status", sa.String(16), nullable=False, server_default="HEALTHY"),
    _ts("created_at", nullable=False, server_default=sa.func.now()),
)

vfolders = sa.Table(
    "vfolders", metadata,
    _uuid_pk(),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("host", sa.String(128), nullable=False, server_default="local:volume1"),
    sa.Column("user", UUID(as_uuid=True)),
    sa.Column("group", UUID(as_uuid=True)),
    sa.Column("status", sa.String(32), nullable=False, server_default="ready"),
    _ts("created_at", nullable=False, server_default=sa.func.now()),
    # vfolders have no deleted_at: the time of the last status change is what ages them.
    _ts("status_changed", index=True),
    _status_check("vfolders", VFOLDER_STATUSES),
    sa.Index("ix_vfolders_prunable", "status_changed", "id",
             postgresql_where=sa.column("status").in_(VFOLDER_HARD_DELETED)),
)

vfolder_permissions = sa.Table(
    "vfolder_permissions", metadata,
    _uuid_pk(),
    sa.Column("vfolder", UUID(as_uuid=True), sa.ForeignKey("vfolders.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("user", UUID(as_uuid=True), nullable=False),
    sa.Column("permission", sa.String(8), nullable=False, server_default="ro"),
)

model_cards = sa.Table(
    "model_cards", metadata,
    _uuid_pk(),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("vfolder", UUID(as_uuid=True), sa.ForeignKey("vfolders.id", ondelete="RESTRICT"),
              nullable=False, index=True),
)

# RBAC associations. Ids are text and there is no FK to any entity table, so database cascades
# never reach these rows: a prune has to remove them itself, in both directions.
association_scopes_entities = sa.Table(
    "association_scopes_entities", metadata,
    _uuid_pk(),
    sa.Column("scope_type", sa.String(32), nullable=False),
    sa.Column("scope_id", sa.String(64), nullable=False),
    sa.Column("entity_type", sa.String(32), nullable=False),
    sa.Column("entity_id", sa.String(64), nullable=False),
    sa.Column("relation_type", sa.String(16), nullable=False, server_default="auto"),
    _ts("registered_at", nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("scope_type", "scope_id", "entity_id", name="uq_scope_entity"),
    sa.Index("ix_association_entity", "entity_type", "entity_id"),
)

audit_logs = sa.Table(
    "audit_logs", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    _ts("created_at", nullable=False, server_default=sa.func.now()),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(128)),
    sa.Column("details", JSONB),
    sa.Index("ix_audit_logs_created_at", "created_at", "id"),
)
