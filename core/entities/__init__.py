"""The Backend.AI pack: one module per entity, each declaring one Pruner per model it supports
(`VARIANTS`: modelled, 26.8, 26.9; `registry.resolve` lets the live catalog choose) and the
platform's retention category that covers the same rows (`CATEGORY`, or None). Tables of one
shape share a module that lists them (`histories`, `usage_buckets`: `ENTITIES`).

A new entity is one module here plus one line in ENTITIES (or one line in a shared module).
"""

from types import ModuleType

from core.backendai.kinds import Entity
from core.entities import (
    audit_logs,
    endpoint_tokens,
    endpoints,
    entity_shares,
    error_logs,
    event_logs,
    histories,
    kernel_usage_records,
    login_history,
    login_sessions,
    replica_groups,
    role_invitations,
    roles,
    routings,
    session_groups,
    sessions,
    sessions_errored,
    usage_buckets,
    vfolder_invitations,
    vfolders,
)
from core.repository.pruner import Pruner


def entity(module: ModuleType) -> Entity:
    """The entity a one-entity module declares (NAME, CATEGORY, VARIANTS)."""
    return Entity(module.NAME, module.CATEGORY, module.VARIANTS)


ENTITIES: tuple[Entity, ...] = (
    entity(sessions),
    entity(sessions_errored),
    entity(vfolders),
    entity(audit_logs),
    entity(event_logs),
    entity(error_logs),
    entity(login_history),
    entity(login_sessions),
    *histories.ENTITIES,
    entity(kernel_usage_records),
    *usage_buckets.ENTITIES,
    entity(routings),
    entity(replica_groups),
    entity(endpoints),
    entity(endpoint_tokens),
    entity(session_groups),
    entity(roles),
    entity(entity_shares),
    entity(role_invitations),
    entity(vfolder_invitations),
)

# Every declaration, each entity's modelled one (if any) first: `registry.get(name)` returns it.
PRUNERS: tuple[Pruner, ...] = tuple(p for e in ENTITIES for p in e.variants)

# Pruner name -> the platform's retention category (retention_policies.category) covering it.
RETENTION: dict[str, str] = {e.name: e.category for e in ENTITIES if e.category}
