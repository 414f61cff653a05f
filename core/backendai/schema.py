"""Lightweight tables of the real Backend.AI manager schemas (26.8.3, 26.9.6).

Only what a declaration needs is declared: each table's primary key (the platform's columns and
types), the columns a condition, a guard or a reference reads, and the columns other tables'
foreign keys point at. Table and column names are facts of the released package (see the facts
sheet); nothing of the platform's own model code is used. A plan checks every declaration
against the live catalog before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from core.backendai.facts import R26_8, R26_9


def _uuid(name: str, **kw: Any) -> sa.Column[Any]:
    return sa.Column(name, UUID(as_uuid=True), **kw)


def _id() -> sa.Column[Any]:
    return _uuid("id", primary_key=True)


def _ts(name: str, **kw: Any) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def _text(name: str, length: int | None = None, **kw: Any) -> sa.Column[Any]:
    return sa.Column(name, sa.String(length), **kw)


@dataclass(frozen=True)
class Rbac8:
    """26.8 RBAC tables that name an entity by text (or uuid) without a foreign key."""

    association_scopes_entities: sa.Table
    object_permissions: sa.Table
    permissions: sa.Table
    virtual_scopes: sa.Table
    entity_memberships: sa.Table
    scope_bindings: sa.Table


@dataclass(frozen=True)
class Graph9:
    """26.9 RBAC graph: one node per entity row; everything else hangs off the node by FK."""

    virtual_entities: sa.Table
    entity_labels: sa.Table
    roles: sa.Table
    entity_shares: sa.Table


@dataclass(frozen=True)
class Schema:
    """The tables of one release. `rbac8` / `graph` hold the release's RBAC model."""

    model: str
    metadata: sa.MetaData
    sessions: sa.Table
    kernels: sa.Table
    routings: sa.Table
    vfolders: sa.Table
    vfolder_attachment: sa.Table
    model_cards: sa.Table
    deployment_revisions: sa.Table
    endpoints: sa.Table
    endpoint_tokens: sa.Table
    deployment_auto_scaling_policies: sa.Table
    replica_groups: sa.Table
    session_groups: sa.Table
    roles: sa.Table
    audit_logs: sa.Table
    event_logs: sa.Table
    error_logs: sa.Table
    login_history: sa.Table
    login_sessions: sa.Table
    session_scheduling_history: sa.Table
    kernel_scheduling_history: sa.Table
    deployment_history: sa.Table
    route_history: sa.Table
    replica_group_history: sa.Table
    kernel_usage_records: sa.Table
    user_usage_buckets: sa.Table
    project_usage_buckets: sa.Table
    domain_usage_buckets: sa.Table
    usage_bucket_entries: sa.Table
    retention_policies: sa.Table
    rbac8: Rbac8 | None = None
    graph: Graph9 | None = None
    role_invitations: sa.Table | None = None  # 26.8
    vfolder_invitations: sa.Table | None = None  # 26.8
    entity_shares: sa.Table | None = None  # 26.9


def _build(model: str) -> Schema:
    md = sa.MetaData()

    def table(name: str, *cols: sa.Column[Any]) -> sa.Table:
        return sa.Table(name, md, *cols)

    def history(name: str, *refs: str) -> sa.Table:
        return table(name, _id(), *(_uuid(r, nullable=False) for r in refs),
                     _ts("updated_at", nullable=False))

    def bucket(name: str) -> sa.Table:
        return table(name, _id(), sa.Column("period_end", sa.Date, nullable=False))

    t: dict[str, Any] = {}
    t["sessions"] = table(
        "sessions", _id(), _text("status", 64, nullable=False), _ts("terminated_at"),
        _uuid("replica_id"), _uuid("session_group_id"), sa.Column("vfolder_mounts", JSONB))
    t["kernels"] = table(
        "kernels", _id(), _uuid("session_id", nullable=False), _text("status", 64, nullable=False),
        _ts("terminated_at"), sa.Column("vfolder_mounts", JSONB))
    t["routings"] = table(
        "routings", _id(), _uuid("endpoint", nullable=False), _uuid("session"),
        _uuid("replica_group_id"), _text("status", 64, nullable=False),
        _ts("updated_at", nullable=False))
    t["vfolders"] = table(
        "vfolders", _id(), _text("quota_scope_id", 64, nullable=False),
        _text("status", 64, nullable=False), _ts("status_changed"))
    t["vfolder_attachment"] = table(
        "vfolder_attachment", _uuid("vfolder", primary_key=True),
        _uuid("kernel", primary_key=True))
    t["model_cards"] = table("model_cards", _id(), _uuid("vfolder", nullable=False))
    t["deployment_revisions"] = table(
        "deployment_revisions", _id(), _uuid("endpoint", nullable=False), _uuid("model"),
        sa.Column("extra_mounts", JSONB, nullable=False))
    t["endpoints"] = table(
        "endpoints", _id(), _text("lifecycle_stage", 64, nullable=False), _ts("destroyed_at"),
        _uuid("primary_replica_group_id"), _uuid("target_replica_group_id"))
    t["endpoint_tokens"] = table(
        "endpoint_tokens", _id(), _uuid("endpoint", nullable=model == R26_9),
        _ts("expires_at"))
    t["deployment_auto_scaling_policies"] = table(
        "deployment_auto_scaling_policies", _id(), _uuid("endpoint", nullable=False))
    t["replica_groups"] = table(
        "replica_groups", _id(), _uuid("deployment_id", nullable=False),
        _uuid("session_group_id", nullable=False), _text("lifecycle", 64, nullable=False),
        _ts("updated_at", nullable=False))
    t["session_groups"] = table(
        "session_groups", _id(), _ts("created_at", nullable=False))
    role_cols: list[sa.Column[Any]] = [_id(), _text("status", 64, nullable=False),
                                       _ts("deleted_at")]
    if model == R26_9:
        role_cols += [_text("scope_type", 32, nullable=False), _uuid("scope_id", nullable=False)]
    t["roles"] = table("roles", *role_cols)
    t["audit_logs"] = table("audit_logs", _id(), _ts("created_at", nullable=False))
    t["event_logs"] = table("event_logs", _id(), _ts("created_at", nullable=False))
    t["error_logs"] = table("error_logs", _id(), _ts("created_at", nullable=model == R26_8))
    t["login_history"] = table("login_history", _id(), _ts("created_at", nullable=False))
    t["login_sessions"] = table(
        "login_sessions", _id(), _text("status", 64, nullable=False), _ts("invalidated_at"))
    t["session_scheduling_history"] = history("session_scheduling_history", "session_id")
    t["kernel_scheduling_history"] = history("kernel_scheduling_history", "kernel_id",
                                             "session_id")
    t["deployment_history"] = history("deployment_history", "deployment_id")
    t["route_history"] = history("route_history", "route_id", "deployment_id")
    t["replica_group_history"] = history("replica_group_history", "replica_group_id",
                                         "deployment_id")
    t["kernel_usage_records"] = table(
        "kernel_usage_records", _id(), _uuid("kernel_id", nullable=False),
        _uuid("session_id", nullable=False), _ts("period_end", nullable=False))
    for kind in ("user", "project", "domain"):
        t[f"{kind}_usage_buckets"] = bucket(f"{kind}_usage_buckets")
    t["usage_bucket_entries"] = table(
        "usage_bucket_entries", _uuid("bucket_id", primary_key=True),
        _text("slot_name", 64, primary_key=True), _text("bucket_type", 16, nullable=False))
    t["retention_policies"] = table(
        "retention_policies", _id(), _text("category", 64, nullable=False),
        sa.Column("retention_period", sa.Interval, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False), _ts("last_swept_at"))

    if model == R26_8:
        t["rbac8"] = Rbac8(
            association_scopes_entities=table(
                "association_scopes_entities", _id(), _text("scope_type", 32, nullable=False),
                _text("scope_id", 64, nullable=False), _text("entity_type", 32, nullable=False),
                _text("entity_id", 64, nullable=False)),
            object_permissions=table(
                "object_permissions", _id(), _uuid("role_id", nullable=False),
                _text("entity_type", 32, nullable=False), _text("entity_id", 64, nullable=False)),
            permissions=table(
                "permissions", _id(), _text("scope_type", 32, nullable=False),
                _text("scope_id", 64, nullable=False)),
            virtual_scopes=table(
                "virtual_scopes", _id(), _text("scope_type", 32, nullable=False),
                _uuid("scope_id", nullable=False)),
            entity_memberships=table(
                "entity_memberships", _uuid("virtual_scope_id", primary_key=True),
                _text("entity_type", 32, primary_key=True), _uuid("entity_id", primary_key=True)),
            scope_bindings=table(
                "scope_bindings", _uuid("virtual_scope_id", primary_key=True),
                _text("scope_type", 32, primary_key=True), _uuid("scope_id", primary_key=True)))
        t["role_invitations"] = table(
            "role_invitations", _id(), _text("state", 64, nullable=False), _ts("updated_at"))
        # state is the PG enum vfolderinvitationstate; declared literals are coerced to it
        t["vfolder_invitations"] = table(
            "vfolder_invitations", _id(), _text("state"), _ts("modified_at"))
    else:
        # the (type, id) pairs are foreign keys to virtual_entities: a node's cascade reaches them
        shares = table(
            "entity_shares", _id(), _text("status", 64, nullable=False),
            _ts("updated_at", nullable=False), _text("target_entity_type", 32, nullable=False),
            _uuid("target_entity_id", nullable=False), _text("recipient_entity_type", 32),
            _uuid("recipient_entity_id"))
        t["entity_shares"] = shares
        t["graph"] = Graph9(
            virtual_entities=table(
                "virtual_entities", _id(), _text("entity_type", 32, nullable=False),
                _uuid("entity_id", nullable=False)),
            entity_labels=table(
                "entity_labels", _id(), _text("entity_type", 32, nullable=False),
                _uuid("entity_id", nullable=False)),
            roles=t["roles"], entity_shares=shares)
    return Schema(model=model, metadata=md, **t)


SCHEMAS: dict[str, Schema] = {R26_8: _build(R26_8), R26_9: _build(R26_9)}
