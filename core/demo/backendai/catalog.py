"""Facts of a release for the facts sheet: catalog queries over a fresh database, and the status
enums and derived sets of the release's installed package."""

from __future__ import annotations

import shutil

from core.demo.backendai.build import _throwaway_cluster, ensure_schema
from core.demo.backendai.cache import cached_meta
from core.demo.backendai.common import Progress, _run, print_progress, resolve_release
from core.demo.backendai.loading import load_schema
from core.demo.backendai.python313 import ensure_venv

_FACTS_TABLES = (
    "sessions", "kernels", "session_dependencies", "routings", "endpoints", "session_idle_checks",
    "resource_allocations", "vfolder_attachment", "vfolders", "vfolder_permissions",
    "vfolder_invitations", "vfolder_user_mount_policies", "model_cards", "deployment_revisions",
    "association_scopes_entities", "object_permissions", "virtual_entities", "virtual_scopes",
    "entity_memberships", "scope_bindings", "entity_shares", "roles", "user_roles",
    "permissions", "entity_labels", "audit_logs", "audit_log_scopes", "event_logs", "error_logs",
    "login_history", "login_sessions", "session_scheduling_history",
    "kernel_scheduling_history", "deployment_history", "route_history", "replica_group_history",
    "kernel_usage_records", "usage_bucket_entries", "user_usage_buckets",
    "project_usage_buckets", "domain_usage_buckets", "endpoint_tokens", "retention_policies",
    "domains", "groups", "users", "keypairs", "scaling_groups", "agents", "replica_groups",
    "global_entities", "keypair_resource_policies", "user_resource_policies",
    "project_resource_policies", "resource_slot_types", "idle_checkers", "runtime_variants",
    "session_groups", "login_client_types", "images", "role_invitations",
    "association_groups_users", "sgroups_for_domains", "sgroups_for_groups",
    "sgroups_for_keypairs", "container_registries", "permission_fields",
    "entity_membership_caps", "entity_membership_fields", "role_presets",
)

# Catalog queries (fixed text). Each yields rows printed as `a | b | …`.
_FACT_QUERIES: dict[str, str] = {
    "foreign keys (referencing table, columns -> referenced, ON DELETE, ON UPDATE, deferrable, "
    "an index leads the FK columns)": """
        SELECT c.conrelid::regclass::text,
               (SELECT string_agg(a.attname, ',' ORDER BY k.ord)
                  FROM unnest(c.conkey) WITH ORDINALITY k(att, ord)
                  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.att),
               c.confrelid::regclass::text || '(' ||
               (SELECT string_agg(a.attname, ',' ORDER BY k.ord)
                  FROM unnest(c.confkey) WITH ORDINALITY k(att, ord)
                  JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.att) || ')',
               CASE c.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
                    WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END,
               CASE c.confupdtype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
                    WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END,
               CASE WHEN NOT c.condeferrable THEN 'not deferrable'
                    WHEN c.condeferred THEN 'DEFERRABLE INITIALLY DEFERRED'
                    ELSE 'DEFERRABLE' END,
               CASE WHEN EXISTS (
                   SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid
                     AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] = c.conkey)
                    THEN 'indexed' ELSE 'NO INDEX' END
        FROM pg_constraint c
        WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
        ORDER BY c.confrelid::regclass::text, 1, 2""",
    "primary keys (table, columns, types)": """
        SELECT c.conrelid::regclass::text,
               string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', '
                          ORDER BY k.ord)
        FROM pg_constraint c
        CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY k(att, ord)
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.att
        WHERE c.contype = 'p' AND c.connamespace = 'public'::regnamespace
        GROUP BY c.conrelid ORDER BY 1""",
    "tables without a primary key": """
        SELECT c.relname FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
          AND NOT EXISTS (SELECT 1 FROM pg_constraint p WHERE p.conrelid = c.oid
                          AND p.contype = 'p')
        ORDER BY 1""",
    "PG enum types (type, values in order, columns using it)": """
        SELECT t.typname,
               (SELECT string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder)
                  FROM pg_enum e WHERE e.enumtypid = t.oid),
               (SELECT string_agg(a.attrelid::regclass::text || '.' || a.attname, ', '
                                  ORDER BY 1)
                  FROM pg_attribute a JOIN pg_class r ON r.oid = a.attrelid
                  WHERE a.atttypid = t.oid AND r.relkind IN ('r', 'p') AND NOT a.attisdropped)
        FROM pg_type t
        WHERE t.typtype = 'e' AND t.typnamespace = 'public'::regnamespace ORDER BY 1""",
    "columns of the tables this project touches (table, column, type, nullable, default)": """
        SELECT a.attrelid::regclass::text, a.attname, format_type(a.atttypid, a.atttypmod),
               CASE WHEN a.attnotnull THEN 'NOT NULL' ELSE 'null' END,
               coalesce(pg_get_expr(d.adbin, d.adrelid), '')
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
          AND c.relname = ANY(:tables) AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY 1, a.attnum""",
    "indexes of the tables this project touches": """
        SELECT i.indrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
        WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY(:tables)
        ORDER BY 1, 2""",
    "check and unique constraints of the tables this project touches": """
        SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
        WHERE c.contype IN ('c', 'u', 'x') AND r.relnamespace = 'public'::regnamespace
          AND r.relname = ANY(:tables)
        ORDER BY 1, 2""",
    "triggers (non-internal)": """
        SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid)
        FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2""",
    "functions in public": """
        SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
        FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace ORDER BY 1""",
    "row level security / partitioned / inherited / views / sequences": """
        SELECT 'rls', relname FROM pg_class
         WHERE relnamespace = 'public'::regnamespace AND relrowsecurity
        UNION ALL SELECT 'policy', tablename || '.' || policyname FROM pg_policies
        UNION ALL SELECT 'partitioned', relname FROM pg_class
         WHERE relnamespace = 'public'::regnamespace AND relkind = 'p'
        UNION ALL SELECT 'inherits', inhrelid::regclass::text || ' <- ' ||
               inhparent::regclass::text FROM pg_inherits
        UNION ALL SELECT 'view', relname FROM pg_class
         WHERE relnamespace = 'public'::regnamespace AND relkind IN ('v', 'm')
        UNION ALL SELECT 'sequence', relname FROM pg_class
         WHERE relnamespace = 'public'::regnamespace AND relkind = 'S'
        UNION ALL SELECT 'extension', extname FROM pg_extension
        ORDER BY 1, 2""",
    "tables and the rows oneshot left in them": """
        SELECT c.relname,
               (xpath('/row/n/text()', query_to_xml(
                   format('SELECT count(*) AS n FROM public.%I', c.relname), false, true,
                   '')))[1]::text
        FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
        ORDER BY 1""",
}


# Run by the release's own interpreter: the status enums the rows hold, and the sets the
# platform's code derives from them (terminal, retriable, purgable…). Printed as found.
_ENUM_PROBE = r"""
import importlib, inspect
TARGETS = [
    ("ai.backend.manager.data.session.types", "SessionStatus"),
    ("ai.backend.manager.data.kernel.types", "KernelStatus"),
    ("ai.backend.manager.data.vfolder.types", "VFolderOperationStatus"),
    ("ai.backend.manager.data.vfolder.types", "VFolderMountPermission"),
    ("ai.backend.manager.data.vfolder.types", "VFolderInvitationState"),
    ("ai.backend.common.data.endpoint.types", "EndpointLifecycle"),
    ("ai.backend.manager.data.deployment.types", "RouteStatus"),
    ("ai.backend.manager.data.deployment.types", "ReplicaGroupLifecycle"),
    ("ai.backend.manager.data.auth.login_session_types", "LoginSessionStatus"),
    ("ai.backend.manager.data.auth.login_session_types", "LoginAttemptResult"),
    ("ai.backend.manager.data.entity_share.types", "EntityShareStatus"),
    ("ai.backend.manager.data.role_invitation.types", "RoleInvitationState"),
    ("ai.backend.manager.data.permission.status", "RoleStatus"),
    ("ai.backend.common.data.retention.types", "RetentionCategory"),
    ("ai.backend.common.types", "SessionResult"),
    ("ai.backend.common.types", "SessionTypes"),
]
for mod, name in TARGETS:
    try:
        cls = getattr(importlib.import_module(mod), name)
    except Exception as exc:
        print(f"{name} | absent ({type(exc).__name__}) | {mod}")
        continue
    print(f"{name} | " + ", ".join(f"{m.name}={m.value}" for m in cls) + f" | {mod}")
    attrs = sorted({a for k in cls.__mro__ if k.__module__.startswith("ai.") for a in vars(k)})
    for attr in attrs:
        if attr.startswith("_") or not isinstance(
                inspect.getattr_static(cls, attr), (classmethod, staticmethod)):
            continue
        try:
            got = getattr(cls, attr)()
        except Exception:
            continue
        if isinstance(got, (set, frozenset, list, tuple)):
            print(f"{name}.{attr}() | " + ", ".join(sorted(str(getattr(x, "value", x))
                                                        for x in got)))
for mod, names in [("ai.backend.manager.models.session.row", ["DEAD_SESSION_STATUSES"]),
                   ("ai.backend.manager.models.kernel.row", ["DEAD_KERNEL_STATUSES"]),
                   ("ai.backend.manager.models.vfolder.row",
                    ["HARD_DELETED_VFOLDER_STATUSES", "SOFT_DELETED_VFOLDER_STATUSES",
                     "vfolder_status_map"])]:
    m = importlib.import_module(mod)
    for n in names:
        got = getattr(m, n, None)
        if isinstance(got, dict):
            for k, v in got.items():
                print(f"{n}[{getattr(k, 'value', k)}] | "
                      + ", ".join(sorted(str(getattr(x, "value", x)) for x in v)))
        elif got is not None:
            print(f"{n} | " + ", ".join(sorted(str(getattr(x, "value", x)) for x in got)))
"""


def platform_enums(release: str, progress: Progress | None = print_progress) -> str:
    """The status enums and derived sets, read from the release's installed package."""
    venv = ensure_venv(release, progress)
    proc = _run([str(venv / "bin" / "python"), "-c", _ENUM_PROBE], "the enum probe",
                timeout=300)
    return proc.stdout


def facts(release: str, progress: Progress | None = print_progress) -> str:
    """Catalog facts of a fresh `release` database (loaded into a throwaway cluster)."""
    import asyncio

    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    version = resolve_release(release)
    ensure_schema(version, progress)
    meta = cached_meta(version)
    cluster, base = _throwaway_cluster()
    out: list[str] = [
        f"# backend-ai-manager {version}: catalog facts of a fresh `schema oneshot` database",
        f"alembic head: {meta['alembic_head'] if meta else '?'}; tables: "
        f"{meta['tables'] if meta else '?'}",
    ]
    try:
        url = load_schema(cluster, "facts", version, use_template=False, progress=progress)

        async def collect() -> None:
            engine = create_async_engine(url)
            try:
                async with engine.connect() as conn:
                    for title, sql in _FACT_QUERIES.items():
                        params = {"tables": list(_FACTS_TABLES)} if ":tables" in sql else {}
                        rows = (await conn.execute(sa.text(sql), params)).all()
                        out.append(f"\n## {title}  [{len(rows)}]")
                        out.extend(" | ".join("" if v is None else str(v) for v in row)
                                   for row in rows)
            finally:
                await engine.dispose()

        asyncio.run(collect())
    finally:
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)
    out.append("\n## platform enums and derived status sets (the installed package)")
    out.append(platform_enums(version, progress).rstrip())
    return "\n".join(out) + "\n"
