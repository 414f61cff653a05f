"""The Backend.AI pack: one module per entity, each declaring one Pruner per model it supports
(`VARIANTS`: modelled, 26.8, 26.9; `registry.resolve` lets the live catalog choose) and the
platform's retention category that covers the same rows (`CATEGORY`, or None).

A new entity is one module here plus one line in ENTITIES.
"""

from types import ModuleType

from core.entities import (
    audit_logs,
    deployment_history,
    domain_usage_buckets,
    endpoint_tokens,
    endpoints,
    entity_shares,
    error_logs,
    event_logs,
    kernel_scheduling_history,
    kernel_usage_records,
    login_history,
    login_sessions,
    project_usage_buckets,
    replica_group_history,
    replica_groups,
    role_invitations,
    roles,
    route_history,
    routings,
    session_groups,
    session_scheduling_history,
    sessions,
    sessions_errored,
    user_usage_buckets,
    vfolder_invitations,
    vfolders,
)
from core.repository.pruner import Pruner

ENTITIES: tuple[ModuleType, ...] = (
    sessions,
    sessions_errored,
    vfolders,
    audit_logs,
    event_logs,
    error_logs,
    login_history,
    login_sessions,
    session_scheduling_history,
    kernel_scheduling_history,
    deployment_history,
    route_history,
    replica_group_history,
    kernel_usage_records,
    user_usage_buckets,
    project_usage_buckets,
    domain_usage_buckets,
    routings,
    replica_groups,
    endpoints,
    endpoint_tokens,
    session_groups,
    roles,
    entity_shares,
    role_invitations,
    vfolder_invitations,
)

# Every declaration, each entity's modelled one (if any) first: `registry.get(name)` returns it.
PRUNERS: tuple[Pruner, ...] = tuple(p for m in ENTITIES for p in m.VARIANTS)

# Pruner name -> the platform's retention category (retention_policies.category) covering it.
RETENTION: dict[str, str] = {m.NAME: m.CATEGORY for m in ENTITIES if m.CATEGORY}
