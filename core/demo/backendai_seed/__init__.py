"""Set-based demo data for a real Backend.AI manager schema (26.8 or 26.9, see `backendai`).

Fills every table a prune touches, and the parents their NOT NULL foreign keys need, with a
year and more of platform history: sessions and kernels in every status, dependency edges (also
live -> old), routings and endpoints live and terminal, vfolders in every operation status
with attachments, shares, model cards and deployment revisions pointing at them (also at
hard-deleted ones), the `vfolder_mounts` / `extra_mounts` JSON the platform's purge guard reads,
the RBAC rows of the release's model, the append-only logs, the scheduling histories, usage
records and usage buckets, and the eight `retention_policies` rows a migrated database has.

Everything is generated inside PostgreSQL with INSERT … SELECT over generate_series: the SQL
below is fixed text, and the only values bound are integers (sizes). Ids are derived from
ordinals (`pg_temp.bid(kind, i)` = md5 of kind and ordinal, as a uuid), so a child finds its
parent without a lookup table and a seed is reproducible (`setseed`). Seed a freshly loaded
schema once; a second seed of the same database is refused.

    counts = await seed_backendai(engine, "26.9", sessions=2_000)
"""

# The statements, one module an area; _STATEMENTS runs them in this order (FK parents first):
#   parents      id helpers, policies, domains, scaling groups, agents, projects, users
#   vfolders     vfolders; later the rows that name them (model cards, permissions…)
#   sessions     sessions, their mounts, kernels, dependencies
#   deployments  endpoints, session / replica groups, revisions, routings, tokens
#   cases        the cases the pack guards; later their RBAC rows
#   rbac88       26.8's RBAC model
#   rbac99       26.9's RBAC graph
#   history      logs, histories, usage records and buckets; last the retention policies
# releases holds the release tags (R88, R99, BOTH), sizes the bound row budgets (Sizes).

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.demo.backendai import BackendAIError, release_key
from core.demo.backendai_seed.cases import CASE_RBAC, CASES
from core.demo.backendai_seed.deployments import DEPLOYMENTS
from core.demo.backendai_seed.history import HISTORY, RETENTION
from core.demo.backendai_seed.parents import PARENTS
from core.demo.backendai_seed.rbac88 import RBAC_26_8
from core.demo.backendai_seed.rbac99 import RBAC_26_9
from core.demo.backendai_seed.releases import BOTH, R88, R99, Statements
from core.demo.backendai_seed.sessions import SESSIONS
from core.demo.backendai_seed.sizes import MAX_SESSIONS, MIN_SESSIONS, Sizes
from core.demo.backendai_seed.vfolders import VFOLDER_REFERENCES, VFOLDERS

__all__ = [
    "BOTH",
    "MAX_SESSIONS",
    "MIN_SESSIONS",
    "R88",
    "R99",
    "SEEDED_TABLES",
    "Sizes",
    "detect_release",
    "seed_backendai",
    "table_counts",
]

# (releases, statement). Statements run in this order, in one transaction.
_STATEMENTS: Statements = [
    *PARENTS,
    *VFOLDERS,
    *SESSIONS,
    *DEPLOYMENTS,
    *CASES,
    *VFOLDER_REFERENCES,
    *RBAC_26_8,
    *RBAC_26_9,
    *HISTORY,
    *CASE_RBAC,
    *RETENTION,
]

# The tables a seed fills (per release), in the order counts are reported.
SEEDED_TABLES: dict[str, tuple[str, ...]] = {
    "26.8": (
        "domains", "groups", "users", "keypairs", "association_groups_users", "scaling_groups",
        "agents", "resource_slot_types", "idle_checkers", "runtime_variants",
        "keypair_resource_policies", "user_resource_policies", "project_resource_policies",
        "login_client_types", "sessions", "kernels", "session_dependencies",
        "session_idle_checks", "resource_allocations", "vfolder_attachment", "vfolders",
        "vfolder_permissions", "vfolder_invitations", "model_cards", "endpoints",
        "session_groups", "replica_groups", "deployment_revisions", "routings",
        "endpoint_tokens", "deployment_policies", "deployment_auto_scaling_policies",
        "association_scopes_entities", "object_permissions", "permissions",
        "roles", "user_roles", "role_invitations", "virtual_scopes", "entity_memberships",
        "scope_bindings", "audit_logs", "event_logs", "error_logs", "login_history",
        "login_sessions", "session_scheduling_history", "kernel_scheduling_history",
        "deployment_history", "route_history", "replica_group_history", "kernel_usage_records",
        "domain_usage_buckets", "project_usage_buckets", "user_usage_buckets",
        "usage_bucket_entries", "retention_policies",
    ),
    "26.9": (
        "domains", "groups", "users", "keypairs", "association_groups_users", "scaling_groups",
        "agents", "resource_slot_types", "idle_checkers", "runtime_variants",
        "keypair_resource_policies", "user_resource_policies", "project_resource_policies",
        "login_client_types", "sessions", "kernels", "session_dependencies",
        "session_idle_checks", "resource_allocations", "vfolder_attachment", "vfolders",
        "vfolder_user_mount_policies", "model_cards", "endpoints", "session_groups",
        "replica_groups", "deployment_revisions", "routings", "endpoint_tokens",
        "deployment_policies", "deployment_auto_scaling_policies",
        "virtual_entities", "entity_memberships", "entity_membership_caps", "scope_bindings",
        "entity_shares", "roles", "permissions", "user_roles", "entity_labels", "audit_logs",
        "audit_log_scopes", "event_logs", "error_logs", "login_history", "login_sessions",
        "session_scheduling_history", "kernel_scheduling_history", "deployment_history",
        "route_history", "replica_group_history", "kernel_usage_records",
        "domain_usage_buckets", "project_usage_buckets", "user_usage_buckets",
        "usage_bucket_entries", "retention_policies",
    ),
}


async def detect_release(conn: AsyncConnection) -> str:
    """Which release's schema this database holds, read from the catalog."""
    row = (await conn.execute(sa.text(
        "SELECT to_regclass('public.sessions') IS NOT NULL, "
        "to_regclass('public.virtual_entities') IS NOT NULL, "
        "to_regclass('public.association_scopes_entities') IS NOT NULL"))).one()
    has_sessions, has_graph, has_association = row
    if not has_sessions:
        raise BackendAIError("this database holds no Backend.AI manager schema (no sessions)")
    if has_graph and not has_association:
        return "26.9"
    if has_association and not has_graph:
        return "26.8"
    raise BackendAIError("cannot tell the Backend.AI release of this schema from its catalog")


async def table_counts(conn: AsyncConnection, tables: tuple[str, ...]) -> dict[str, int]:
    """Exact row counts of `tables` (names from our own constants), counted in SQL."""
    # One statement: each name is a constant of this module, quoted by PostgreSQL (%I).
    rows = (await conn.execute(sa.text(
        "SELECT t, (xpath('/row/c/text()', query_to_xml("
        "format('SELECT count(*) AS c FROM public.%I', t), false, true, '')))[1]::text::bigint "
        "FROM unnest(CAST(:tables AS text[])) AS t"), {"tables": list(tables)})).all()
    return {name: int(count) for name, count in rows}


async def seed_backendai(engine: AsyncEngine, release: str | None = None, *,
                         sessions: int = 2_000, seed_value: float = 0.42) -> dict[str, int]:
    """Fill a freshly loaded manager schema and return per-table row counts (counted in SQL).

    `release` ("26.8" / "26.9" or the pinned version) is checked against the catalog; pass None
    to take the catalog's answer.
    """
    if isinstance(sessions, bool) or not isinstance(sessions, int) or not (
        MIN_SESSIONS <= sessions <= MAX_SESSIONS
    ):
        raise BackendAIError(
            f"sessions must be a whole number from {MIN_SESSIONS} to {MAX_SESSIONS:,}")
    sizes = Sizes.of(sessions)
    async with engine.begin() as conn:
        found = await detect_release(conn)
        key = release_key(release) if release is not None else found
        if key != found:
            raise BackendAIError(f"asked to seed a {key} schema, but the database is {found}")
        if (await conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM sessions)"))).scalar():
            raise BackendAIError("this database is already seeded (sessions has rows)")
        await conn.execute(sa.select(sa.func.setseed(seed_value)))
        params = sizes.params()
        for releases, stmt in _STATEMENTS:
            if key in releases:
                await conn.execute(sa.text(stmt), params)
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(sa.text("ANALYZE"))
        return await table_counts(conn, SEEDED_TABLES[key])
