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

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.demo.backendai import BackendAIError, release_key

MIN_SESSIONS, MAX_SESSIONS = 40, 5_000_000

R88 = frozenset({"26.8"})
R99 = frozenset({"26.9"})
BOTH = R88 | R99


@dataclass(frozen=True)
class Sizes:
    """Row budgets derived from the session count (all bound as integers)."""

    n: int  # sessions
    u: int  # users
    p: int  # general projects
    v: int  # vfolders
    e: int  # endpoints (deployments)
    ub: int  # users with usage buckets

    @classmethod
    def of(cls, sessions: int) -> Sizes:
        return cls(
            n=sessions,
            u=max(20, min(20_000, sessions // 10)),
            p=max(6, min(300, sessions // 50)),
            v=max(40, sessions // 5),
            e=max(8, sessions // 100),
            ub=max(10, min(5_000, sessions // 50)),
        )

    def params(self) -> dict[str, int]:
        return {"n": self.n, "u": self.u, "p": self.p, "v": self.v, "e": self.e, "ub": self.ub}


# (releases, statement). Statements run in this order, in one transaction.
_STATEMENTS: list[tuple[frozenset[str], str]] = [
    # ------------------------------------------------------------------ helpers (session-local)
    (BOTH, """
    CREATE FUNCTION pg_temp.bid(kind text, i bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE AS $$ SELECT md5(kind || ':' || i)::uuid $$
    """),
    (BOTH, """
    CREATE FUNCTION pg_temp.kid(session uuid, k int) RETURNS uuid
    LANGUAGE sql IMMUTABLE AS $$ SELECT md5(session::text || ':kernel:' || k)::uuid $$
    """),
    # ------------------------------------------------------------------ policies, domains
    (BOTH, """
    INSERT INTO keypair_resource_policies (name, default_for_unspecified, total_resource_slots,
        max_concurrent_sessions, max_containers_per_session, idle_timeout, allowed_vfolder_hosts)
    VALUES ('default', 'UNLIMITED', '{}', 30, 1, 3600, '{}')
    """),
    (BOTH, """
    INSERT INTO user_resource_policies (name, max_vfolder_count, max_quota_scope_size,
        max_session_count_per_model_session, max_customized_image_count)
    VALUES ('default', 0, -1, 10, 3)
    """),
    (BOTH, """
    INSERT INTO project_resource_policies (name, max_vfolder_count, max_quota_scope_size,
        max_network_count)
    VALUES ('default', 0, -1, 3)
    """),
    (R88, """
    INSERT INTO domains (id, name, is_active, total_resource_slots, allowed_vfolder_hosts,
        allowed_docker_registries, dotfiles)
    SELECT pg_temp.bid('domain', d), (ARRAY['default', 'research', 'edu'])[d], true, '{}',
           '{"local:volume1": ["mount-in-session", "upload-file", "download-file"]}',
           ARRAY['cr.backend.ai'], ''::bytea
    FROM generate_series(1, 3) AS d
    """),
    (R99, """
    INSERT INTO domains (id, name, is_active, is_default, total_resource_slots,
        allowed_vfolder_hosts, allowed_docker_registries, dotfiles)
    SELECT pg_temp.bid('domain', d), (ARRAY['default', 'research', 'edu'])[d], true, d = 1, '{}',
           '{"local:volume1": ["mount-in-session", "upload-file", "download-file"]}',
           ARRAY['cr.backend.ai'], ''::bytea
    FROM generate_series(1, 3) AS d
    """),
    (BOTH, """
    INSERT INTO scaling_groups (id, name, is_active, is_public, is_default, driver, driver_opts,
        scheduler, use_host_network, scheduler_opts, default_deployment_options,
        default_session_options)
    SELECT pg_temp.bid('sgroup', s), (ARRAY['default', 'gpu', 'cpu-batch'])[s], true, true,
           s = 1, 'static', '{}', (ARRAY['fifo', 'drf', 'lifo'])[s], false, '{}', '{}', '{}'
    FROM generate_series(1, 3) AS s
    """),
    (BOTH, """
    INSERT INTO resource_slot_types (slot_name, slot_type)
    VALUES ('cpu', 'count'), ('mem', 'bytes'), ('cuda.device', 'count')
    """),
    (R88, """
    INSERT INTO agents (id, status, region, scaling_group, resource_group_id, addr, version,
        architecture, compute_plugins, available_slots, occupied_slots)
    SELECT 'i-agent-' || a, (ARRAY['ALIVE', 'ALIVE', 'ALIVE', 'LOST', 'RESTARTING',
           'TERMINATED'])[a]::agentstatus, 'local', sg.name, sg.id,
           'tcp://10.0.0.' || a || ':' || '6001', '26.8.3', 'x86_64', '{}',
           '{"cpu": "64", "mem": "274877906944"}', '{}'
    FROM generate_series(1, 6) AS a
    JOIN scaling_groups sg ON sg.id = pg_temp.bid('sgroup', 1 + a % 3)
    """),
    (R99, """
    INSERT INTO agents (id, status, region, scaling_group, resource_group_id, addr, version,
        architecture, compute_plugins)
    SELECT 'i-agent-' || a, (ARRAY['ALIVE', 'ALIVE', 'ALIVE', 'LOST', 'RESTARTING',
           'TERMINATED'])[a]::agentstatus, 'local', sg.name, sg.id,
           'tcp://10.0.0.' || a || ':' || '6001', '26.9.6', 'x86_64', '{}'
    FROM generate_series(1, 6) AS a
    JOIN scaling_groups sg ON sg.id = pg_temp.bid('sgroup', 1 + a % 3)
    """),
    (BOTH, """
    INSERT INTO idle_checkers (id, name, target_session_types, spec)
    SELECT pg_temp.bid('idle', c), (ARRAY['network-timeout', 'utilization'])[c],
           ARRAY['INTERACTIVE', 'BATCH'],
           (ARRAY['{"type": "network_timeout", "threshold": "1h"}',
                  '{"type": "utilization", "window": "30m"}'])[c]::jsonb
    FROM generate_series(1, 2) AS c
    """),
    (BOTH, """
    INSERT INTO runtime_variants (id, name, default_model_definition)
    SELECT pg_temp.bid('runtime', r), (ARRAY['custom', 'vllm'])[r], '{}'
    FROM generate_series(1, 2) AS r
    """),
    # ------------------------------------------------------------------ projects, users
    (R88, """
    INSERT INTO groups (id, name, domain_name, total_resource_slots, allowed_vfolder_hosts,
        dotfiles, resource_policy, type, is_active)
    SELECT pg_temp.bid('project', p), 'project-' || p,
           (ARRAY['default', 'research', 'edu'])[1 + (p - 1) % 3], '{}', '{}', ''::bytea,
           'default', CASE WHEN p = 1 THEN 'model-store' ELSE 'general' END::projecttype, true
    FROM generate_series(1, :p) AS p
    """),
    (R99, """
    INSERT INTO groups (id, name, domain_name, total_resource_slots, allowed_vfolder_hosts,
        dotfiles, resource_policy, type, is_active)
    SELECT pg_temp.bid('project', p), 'project-' || p,
           (ARRAY['default', 'research', 'edu'])[1 + (p - 1) % 3], '{}', '{}', ''::bytea,
           'default', CASE WHEN p = 1 THEN 'model-store' ELSE 'general' END, true
    FROM generate_series(1, :p) AS p
    """),
    # user i belongs to project 1 + (i - 1) % p and to that project's domain
    (R88, """
    INSERT INTO users (uuid, username, email, status, domain_name, role, resource_policy,
        sudo_session_enabled, need_password_change, created_at)
    SELECT pg_temp.bid('user', i), 'user-' || i, 'user-' || i || '@example.com',
           (CASE WHEN i % 50 = 7 THEN 'inactive' ELSE 'active' END)::userstatus,
           g.domain_name, (CASE WHEN i = 1 THEN 'superadmin' WHEN i % 40 = 2 THEN 'admin'
                                ELSE 'user' END)::userrole,
           'default', false, false, now() - interval '500 days' + i * interval '1 minute'
    FROM generate_series(1, :u) AS i
    JOIN groups g ON g.id = pg_temp.bid('project', 1 + (i - 1) % :p)
    """),
    (R99, """
    INSERT INTO users (uuid, username, email, status, domain_name, domain_id, role,
        resource_policy, sudo_session_enabled, created_at)
    SELECT pg_temp.bid('user', i), 'user-' || i, 'user-' || i || '@example.com',
           (CASE WHEN i % 50 = 7 THEN 'inactive' ELSE 'active' END)::userstatus,
           g.domain_name, d.id, (CASE WHEN i = 1 THEN 'superadmin' WHEN i % 40 = 2 THEN 'admin'
                                      ELSE 'user' END)::userrole,
           'default', false, now() - interval '500 days' + i * interval '1 minute'
    FROM generate_series(1, :u) AS i
    JOIN groups g ON g.id = pg_temp.bid('project', 1 + (i - 1) % :p)
    JOIN domains d ON d.name = g.domain_name
    """),
    # 26.9 puts a user's own vfolders in the user's personal project
    (R99, """
    INSERT INTO groups (id, name, domain_name, total_resource_slots, allowed_vfolder_hosts,
        dotfiles, resource_policy, type, creator_id, is_active)
    SELECT pg_temp.bid('personal', i), 'personal-' || i, u.domain_name, '{}', '{}', ''::bytea,
           'default', 'personal', u.uuid, true
    FROM generate_series(1, :u) AS i
    JOIN users u ON u.uuid = pg_temp.bid('user', i)
    """),
    (BOTH, """
    INSERT INTO association_groups_users (user_id, group_id)
    SELECT pg_temp.bid('user', i), pg_temp.bid('project', 1 + (i - 1) % :p)
    FROM generate_series(1, :u) AS i
    UNION ALL
    SELECT pg_temp.bid('user', i), pg_temp.bid('project', 1 + i % :p)
    FROM generate_series(1, :u) AS i WHERE i % 4 = 0 AND :p > 1
    """),
    (BOTH, """
    INSERT INTO keypairs (access_key, secret_key, is_active, is_admin, "user", resource_policy,
        dotfiles, bootstrap_script, rate_limit, num_queries)
    SELECT 'AK' || lpad(i::text, 18, '0'), md5('secret' || i), i % 50 <> 7, i = 1,
           pg_temp.bid('user', i), 'default', ''::bytea, '', 10000, 0
    FROM generate_series(1, :u) AS i
    """),
    (R88, """
    UPDATE users u SET main_access_key = 'AK' || lpad(i::text, 18, '0')
    FROM generate_series(1, :u) AS i WHERE u.uuid = pg_temp.bid('user', i)
    """),
    (R99, """
    INSERT INTO login_client_types (id, name, description)
    VALUES (pg_temp.bid('client', 1), 'webui', 'Web UI'),
           (pg_temp.bid('client', 2), 'cli', 'Command line client')
    """),
    (R88, """
    INSERT INTO login_client_types (id, name, description)
    VALUES (pg_temp.bid('client', 1), 'webui', 'Web UI'),
           (pg_temp.bid('client', 2), 'cli', 'Command line client')
    """),
    # ------------------------------------------------------------------ vfolders
    # vfolder v (1..:v): 1..10 take each operation status once; 20% are project-owned.
    (R88, """
    INSERT INTO vfolders (id, host, domain_name, quota_scope_id, name, usage_mode, permission,
        ownership_type, "user", "group", cloneable, status, status_changed, created_at,
        updated_at, creator, creator_id)
    SELECT pg_temp.bid('vfolder', v), 'local:volume1', g.domain_name,
           CASE WHEN v % 5 = 0 THEN 'project:' || g.id ELSE 'user:' || u.uuid END,
           'vf-' || v,
           (CASE WHEN v % 10 = 0 OR v = 9 THEN 'model' WHEN v % 20 = 3 THEN 'data'
                 ELSE 'general' END)::vfolderusagemode,
           'rw'::vfoldermountpermission,
           (CASE WHEN v % 5 = 0 THEN 'group' ELSE 'user' END)::vfolderownershiptype,
           CASE WHEN v % 5 = 0 THEN NULL ELSE u.uuid END,
           CASE WHEN v % 5 = 0 THEN g.id END,
           v % 7 = 0, st.status,
           CASE WHEN v > 10 AND v % 97 = 13 THEN NULL
                ELSE now() - make_interval(secs => st.age) END,
           now() - make_interval(secs => st.age + 86400 * (1 + v % 30)),
           now() - make_interval(secs => st.age), u.email, u.uuid
    FROM (SELECT v, random() * 400 * 86400 AS age,
                 CASE WHEN v <= 9 THEN (ARRAY['ready', 'performing', 'cloning', 'mounted',
                          'error', 'delete-pending', 'delete-ongoing', 'delete-complete',
                          'delete-error'])[v]
                      ELSE (ARRAY['ready', 'ready', 'ready', 'ready', 'ready', 'ready',
                          'ready', 'ready', 'mounted', 'performing', 'cloning', 'error',
                          'delete-pending', 'delete-pending', 'delete-ongoing',
                          'delete-complete', 'delete-complete', 'delete-complete',
                          'delete-complete', 'delete-complete', 'delete-error',
                          'delete-error'])[1 + floor(random() * 22)::int] END AS status
          FROM generate_series(1, :v) AS v) AS st
    JOIN users u ON u.uuid = pg_temp.bid('user', 1 + (st.v * 13) % :u)
    JOIN groups g ON g.id = pg_temp.bid('project', 1 + (1 + (st.v * 13) % :u - 1) % :p)
    """),
    (R99, """
    INSERT INTO vfolders (id, host, domain_name, quota_scope_id, name, usage_mode,
        default_mount_permission, ownership_type, "user", "group", cloneable, status,
        status_changed, created_at, updated_at, creator, creator_id)
    SELECT pg_temp.bid('vfolder', v), 'local:volume1', g.domain_name,
           CASE WHEN v % 5 = 0 THEN 'project:' || g.id ELSE 'user:' || u.uuid END,
           'vf-' || v,
           (CASE WHEN v % 10 = 0 OR v = 9 THEN 'model' WHEN v % 20 = 3 THEN 'data'
                 ELSE 'general' END)::vfolderusagemode,
           'rw', (CASE WHEN v % 5 = 0 THEN 'group' ELSE 'user' END)::vfolderownershiptype,
           CASE WHEN v % 5 = 0 THEN NULL ELSE u.uuid END,
           CASE WHEN v % 5 = 0 THEN g.id ELSE pg_temp.bid('personal', 1 + (st.v * 13) % :u) END,
           v % 7 = 0, st.status,
           CASE WHEN v > 10 AND v % 97 = 13 THEN NULL
                ELSE now() - make_interval(secs => st.age) END,
           now() - make_interval(secs => st.age + 86400 * (1 + v % 30)),
           now() - make_interval(secs => st.age), u.email, u.uuid
    FROM (SELECT v, random() * 400 * 86400 AS age,
                 CASE WHEN v <= 10 THEN (ARRAY['ready', 'creating', 'performing', 'cloning',
                          'mounted', 'error', 'delete-pending', 'delete-ongoing',
                          'delete-complete', 'delete-error'])[v]
                      ELSE (ARRAY['ready', 'ready', 'ready', 'ready', 'ready', 'ready',
                          'ready', 'ready', 'mounted', 'performing', 'cloning', 'error',
                          'creating', 'delete-pending', 'delete-ongoing',
                          'delete-complete', 'delete-complete', 'delete-complete',
                          'delete-complete', 'delete-complete', 'delete-error',
                          'delete-error'])[1 + floor(random() * 22)::int] END AS status
          FROM generate_series(1, :v) AS v) AS st
    JOIN users u ON u.uuid = pg_temp.bid('user', 1 + (st.v * 13) % :u)
    JOIN groups g ON g.id = pg_temp.bid('project', 1 + (1 + (st.v * 13) % :u - 1) % :p)
    """),
    # ------------------------------------------------------------------ sessions
    # g 1..17 take each session status once; 18..20 are RUNNING with a BUILDING / RESIZING /
    # SUSPENDED main kernel; every 53rd is TERMINATED with a sub kernel left RUNNING. Every
    # 20th session (and 9, 14, 15, 17) is an INFERENCE session with a routing.
    (BOTH, """
    CREATE TEMP TABLE _sess ON COMMIT DROP AS
    SELECT g, pg_temp.bid('session', g) AS id, st.status, st.age, st.p2,
           CASE WHEN g % 20 = 0 OR g IN (9, 14, 15, 17) THEN 'INFERENCE'
                WHEN g % 97 = 0 THEN 'SYSTEM'
                WHEN g % 4 = 1 THEN 'BATCH' ELSE 'INTERACTIVE' END AS session_type,
           CASE WHEN g % 53 = 0 THEN 2 WHEN g % 10 IN (3, 7) THEN 2 WHEN g % 25 = 5 THEN 3
                ELSE 1 END AS cluster_size
    FROM (SELECT g, random() AS p2, random() * 400 * 86400 AS age,
                 CASE WHEN g <= 17 THEN (ARRAY['PENDING', 'DEPRIORITIZING', 'RESERVED',
                          'SCHEDULED', 'PREPARING', 'PULLING', 'PREPARED', 'CREATING', 'RUNNING',
                          'RESTARTING', 'RUNNING_DEGRADED', 'PREEMPTED', 'RESCHEDULING',
                          'TERMINATING', 'TERMINATED', 'ERROR', 'CANCELLED'])[g]
                      WHEN g <= 20 THEN 'RUNNING'
                      WHEN g % 53 = 0 THEN 'TERMINATED'
                      ELSE CASE WHEN p < 0.04 THEN (ARRAY['PENDING', 'DEPRIORITIZING',
                                    'RESERVED', 'SCHEDULED', 'PREPARING', 'PULLING', 'PREPARED',
                                    'CREATING', 'RUNNING', 'RESTARTING', 'RUNNING_DEGRADED',
                                    'PREEMPTED', 'RESCHEDULING', 'TERMINATING'])
                                    [1 + floor(random() * 14)::int]
                                WHEN p < 0.10 THEN 'RUNNING'
                                WHEN p < 0.135 THEN 'ERROR'
                                WHEN p < 0.20 THEN 'CANCELLED'
                                ELSE 'TERMINATED' END END AS status
          FROM (SELECT g, random() AS p FROM generate_series(1, :n) AS g) AS r) AS st
    """),
    (BOTH, "CREATE INDEX ON _sess (g)"),
    (R88, """
    INSERT INTO sessions (id, creation_id, name, session_type, priority, cluster_mode,
        cluster_size, options, resource_group_id, scaling_group_name, domain_name, domain_id,
        group_id, user_uuid, access_key, images, tag, occupying_slots, requested_slots,
        use_host_network, created_at, starts_at, terminated_at, status, status_info, result,
        agent_ids)
    SELECT s.id, md5('c' || s.g)::varchar(32), 'sess-' || s.g, s.session_type, 10,
           CASE WHEN s.cluster_size > 1 THEN 'MULTI_NODE' ELSE 'SINGLE_NODE' END,
           s.cluster_size, '{}', sg.id, sg.name, g.domain_name, d.id, g.id, u.uuid,
           'AK' || lpad(ui::text, 18, '0'), ARRAY['cr.backend.ai/stable/python:3.11-ubuntu22.04'],
           NULL, '{}', '{"cpu": "1", "mem": "2147483648"}', false,
           t.created_at, t.created_at + interval '5 seconds', t.terminated_at, s.status,
           CASE WHEN s.status IN ('TERMINATED', 'CANCELLED', 'ERROR') THEN 'user-requested' END,
           CASE s.status WHEN 'TERMINATED' THEN 'SUCCESS' WHEN 'ERROR' THEN 'FAILURE'
                         WHEN 'CANCELLED' THEN 'FAILURE' ELSE 'UNDEFINED' END,
           ARRAY['i-agent-' || (1 + s.g % 6)]
    FROM _sess s
    CROSS JOIN LATERAL (SELECT 1 + (s.g * 7919) % :u AS ui) AS pick
    CROSS JOIN LATERAL (
        SELECT CASE WHEN s.status IN ('TERMINATED', 'CANCELLED', 'ERROR')
                    THEN now() - make_interval(secs => s.age + 600 + 86400 * s.p2)
                    ELSE now() - make_interval(secs => s.age / 13 + 60) END AS created_at,
               CASE WHEN s.status IN ('TERMINATED', 'CANCELLED')
                         AND NOT (s.g > 20 AND s.g % 100 = 37)
                    THEN now() - make_interval(secs => s.age)
                    WHEN s.status = 'ERROR' AND s.p2 < 0.7
                    THEN now() - make_interval(secs => s.age) END AS terminated_at) AS t
    JOIN users u ON u.uuid = pg_temp.bid('user', pick.ui)
    JOIN groups g ON g.id = pg_temp.bid('project', 1 + (pick.ui - 1) % :p)
    JOIN domains d ON d.name = g.domain_name
    JOIN scaling_groups sg ON sg.id = pg_temp.bid('sgroup', 1 + s.g % 3)
    """),
    (R99, """
    INSERT INTO sessions (id, creation_id, name, session_type, priority, cluster_mode,
        cluster_size, options, resource_group_id, scaling_group_name, domain_name, domain_id,
        group_id, user_uuid, access_key, images, tag, use_host_network, created_at, starts_at,
        terminated_at, status, status_info, result, agent_ids)
    SELECT s.id, md5('c' || s.g)::varchar(32), 'sess-' || s.g, s.session_type, 10,
           CASE WHEN s.cluster_size > 1 THEN 'MULTI_NODE' ELSE 'SINGLE_NODE' END,
           s.cluster_size, '{}', sg.id, sg.name, g.domain_name, d.id, g.id, u.uuid,
           'AK' || lpad(ui::text, 18, '0'), ARRAY['cr.backend.ai/stable/python:3.11-ubuntu22.04'],
           NULL, false, t.created_at, t.created_at + interval '5 seconds', t.terminated_at,
           s.status,
           CASE WHEN s.status IN ('TERMINATED', 'CANCELLED', 'ERROR') THEN 'user-requested' END,
           CASE s.status WHEN 'TERMINATED' THEN 'SUCCESS' WHEN 'ERROR' THEN 'FAILURE'
                         WHEN 'CANCELLED' THEN 'FAILURE' ELSE 'UNDEFINED' END,
           ARRAY['i-agent-' || (1 + s.g % 6)]
    FROM _sess s
    CROSS JOIN LATERAL (SELECT 1 + (s.g * 7919) % :u AS ui) AS pick
    CROSS JOIN LATERAL (
        SELECT CASE WHEN s.status IN ('TERMINATED', 'CANCELLED', 'ERROR')
                    THEN now() - make_interval(secs => s.age + 600 + 86400 * s.p2)
                    ELSE now() - make_interval(secs => s.age / 13 + 60) END AS created_at,
               CASE WHEN s.status IN ('TERMINATED', 'CANCELLED')
                         AND NOT (s.g > 20 AND s.g % 100 = 37)
                    THEN now() - make_interval(secs => s.age)
                    WHEN s.status = 'ERROR' AND s.p2 < 0.7
                    THEN now() - make_interval(secs => s.age) END AS terminated_at) AS t
    JOIN users u ON u.uuid = pg_temp.bid('user', pick.ui)
    JOIN groups g ON g.id = pg_temp.bid('project', 1 + (pick.ui - 1) % :p)
    JOIN domains d ON d.name = g.domain_name
    JOIN scaling_groups sg ON sg.id = pg_temp.bid('sgroup', 1 + s.g % 3)
    """),
    # vfolder_mounts: two thirds of sessions mount one vfolder, every 7th a second one; the first
    # 20 sessions mount the delete-complete and delete-error folders (v = 9, 10).
    (BOTH, """
    UPDATE sessions s SET vfolder_mounts = m.mounts
    FROM (
        SELECT x.g, jsonb_agg(jsonb_build_object(
                   'name', v.name,
                   'vfid', v.quota_scope_id || '/' || replace(v.id::text, '-', ''),
                   'vfsubpath', '.', 'host_path', '/vfroot/local/' || replace(v.id::text, '-', ''),
                   'kernel_path', '/home/work/' || v.name,
                   'mount_perm', 'rw', 'usage_mode', v.usage_mode::text) ORDER BY v.name) AS mounts
        FROM (SELECT g, 9 AS vi FROM generate_series(1, 20) AS g
              UNION ALL SELECT g, 10 FROM generate_series(1, 20) AS g
              UNION ALL SELECT g, 1 + (g * 17) % :v FROM generate_series(21, :n) AS g
               WHERE g % 3 <> 0
              UNION ALL SELECT g, 1 + (g * 29) % :v FROM generate_series(21, :n) AS g
               WHERE g % 7 = 0) AS x
        JOIN vfolders v ON v.id = pg_temp.bid('vfolder', x.vi)
        GROUP BY x.g
    ) AS m
    WHERE s.id = pg_temp.bid('session', m.g)
    """),
    # ------------------------------------------------------------------ kernels
    (R88, """
    INSERT INTO kernels (id, session_id, session_creation_id, session_name, session_type,
        cluster_mode, cluster_size, cluster_role, cluster_idx, local_rank, cluster_hostname,
        scaling_group, resource_group_id, agent, agent_addr, domain_name, group_id, user_uuid,
        access_key, image, architecture, registry, occupied_slots, requested_slots,
        occupied_shares, repl_in_port, repl_out_port, stdin_port, stdout_port, use_host_network,
        vfolder_mounts, status, status_changed, result, created_at, terminated_at)
    SELECT pg_temp.kid(se.id, k), se.id, se.creation_id, se.name, se.session_type,
           se.cluster_mode, se.cluster_size, CASE WHEN k = 1 THEN 'main' ELSE 'sub' END, k - 1,
           k - 1, CASE WHEN k = 1 THEN 'main1' ELSE 'sub' || (k - 1) END, se.scaling_group_name,
           se.resource_group_id, 'i-agent-' || (1 + (s.g + k) % 6),
           '10.0.0.' || (1 + (s.g + k) % 6) || ':' || '6001', se.domain_name, se.group_id,
           se.user_uuid, se.access_key, se.images[1], 'x86_64', 'cr.backend.ai',
           '{}', '{"cpu": "1", "mem": "2147483648"}', '{}', 2000, 2001, 2002, 2003, false,
           se.vfolder_mounts, ks.status,
           coalesce(ks.terminated_at, se.created_at + interval '5 seconds'),
           CASE ks.status WHEN 'TERMINATED' THEN 'SUCCESS' WHEN 'ERROR' THEN 'FAILURE'
                          WHEN 'CANCELLED' THEN 'FAILURE' ELSE 'UNDEFINED' END,
           se.created_at, ks.terminated_at
    FROM _sess s
    JOIN sessions se ON se.id = s.id
    CROSS JOIN LATERAL generate_series(1, s.cluster_size) AS k
    CROSS JOIN LATERAL (
        SELECT st AS status,
               CASE WHEN st IN ('TERMINATED', 'CANCELLED', 'ERROR')
                    THEN coalesce(se.terminated_at - make_interval(secs => k),
                                  CASE WHEN s.status = 'ERROR' THEN NULL
                                       ELSE se.created_at + interval '1 hour' END) END
                   AS terminated_at
        FROM (SELECT CASE
            WHEN s.g IN (18, 19, 20) AND k = 1 THEN (ARRAY['BUILDING', 'RESIZING',
                                                           'SUSPENDED'])[s.g - 17]
            WHEN s.g % 53 = 0 AND k = 2 THEN 'RUNNING'
            WHEN s.status = 'DEPRIORITIZING' THEN 'PENDING'
            WHEN s.status = 'RUNNING_DEGRADED' THEN CASE WHEN k = 1 THEN 'RUNNING'
                                                         ELSE 'ERROR' END
            WHEN s.status IN ('PREEMPTED', 'RESCHEDULING') THEN 'PENDING'
            WHEN s.status = 'ERROR' THEN CASE WHEN k = 1 THEN 'ERROR' ELSE 'TERMINATED' END
            ELSE s.status END AS st) AS x
    ) AS ks
    """),
    (R99, """
    INSERT INTO kernels (id, session_id, session_creation_id, session_name, session_type,
        cluster_mode, cluster_size, cluster_role, cluster_idx, local_rank, cluster_hostname,
        scaling_group, resource_group_id, agent, agent_addr, domain_name, group_id, user_uuid,
        access_key, image, architecture, registry, occupied_shares, repl_in_port,
        repl_out_port, stdin_port, stdout_port, use_host_network, vfolder_mounts, status,
        status_changed, result, created_at, terminated_at)
    SELECT pg_temp.kid(se.id, k), se.id, se.creation_id, se.name, se.session_type,
           se.cluster_mode, se.cluster_size, CASE WHEN k = 1 THEN 'main' ELSE 'sub' END, k - 1,
           k - 1, CASE WHEN k = 1 THEN 'main1' ELSE 'sub' || (k - 1) END, se.scaling_group_name,
           se.resource_group_id, 'i-agent-' || (1 + (s.g + k) % 6),
           '10.0.0.' || (1 + (s.g + k) % 6) || ':' || '6001', se.domain_name, se.group_id,
           se.user_uuid, se.access_key, se.images[1], 'x86_64', 'cr.backend.ai',
           '{}', 2000, 2001, 2002, 2003, false, se.vfolder_mounts, ks.status,
           coalesce(ks.terminated_at, se.created_at + interval '5 seconds'),
           CASE ks.status WHEN 'TERMINATED' THEN 'SUCCESS' WHEN 'ERROR' THEN 'FAILURE'
                          WHEN 'CANCELLED' THEN 'FAILURE' ELSE 'UNDEFINED' END,
           se.created_at, ks.terminated_at
    FROM _sess s
    JOIN sessions se ON se.id = s.id
    CROSS JOIN LATERAL generate_series(1, s.cluster_size) AS k
    CROSS JOIN LATERAL (
        SELECT st AS status,
               CASE WHEN st IN ('TERMINATED', 'CANCELLED', 'ERROR')
                    THEN coalesce(se.terminated_at - make_interval(secs => k),
                                  CASE WHEN s.status = 'ERROR' THEN NULL
                                       ELSE se.created_at + interval '1 hour' END) END
                   AS terminated_at
        FROM (SELECT CASE
            WHEN s.g IN (18, 19, 20) AND k = 1 THEN (ARRAY['BUILDING', 'RESIZING',
                                                           'SUSPENDED'])[s.g - 17]
            WHEN s.g % 53 = 0 AND k = 2 THEN 'RUNNING'
            WHEN s.status = 'DEPRIORITIZING' THEN 'PENDING'
            WHEN s.status = 'RUNNING_DEGRADED' THEN CASE WHEN k = 1 THEN 'RUNNING'
                                                         ELSE 'ERROR' END
            WHEN s.status IN ('PREEMPTED', 'RESCHEDULING') THEN 'PENDING'
            WHEN s.status = 'ERROR' THEN CASE WHEN k = 1 THEN 'ERROR' ELSE 'TERMINATED' END
            ELSE s.status END AS st) AS x
    ) AS ks
    """),
    # the 53rd-session sub kernel that never stopped also never got a terminated_at
    (BOTH, """
    INSERT INTO resource_allocations (kernel_id, slot_name, requested, reserved, used,
        reserved_at, used_at, free_at)
    SELECT k.id, sl.slot_name, sl.amount,
           CASE WHEN k.status IN ('PENDING', 'SCHEDULED') THEN 0 ELSE sl.amount END,
           CASE WHEN k.status IN ('RUNNING', 'TERMINATED', 'TERMINATING') THEN sl.amount / 2 END,
           k.created_at + interval '3 seconds', k.created_at + interval '10 seconds',
           k.terminated_at
    FROM kernels k
    CROSS JOIN (VALUES ('cpu', 1::numeric), ('mem', 2147483648::numeric)) AS sl (slot_name, amount)
    """),
    (BOTH, """
    INSERT INTO vfolder_attachment (vfolder, kernel)
    SELECT DISTINCT split_part(e ->> 'vfid', '/', 2)::uuid, k.id
    FROM kernels k CROSS JOIN LATERAL jsonb_array_elements(k.vfolder_mounts) AS e
    WHERE k.vfolder_mounts IS NOT NULL
    """),
    # dependency edges: every 20th session on its predecessor; live sessions on old dead ones
    (BOTH, """
    INSERT INTO session_dependencies (session_id, depends_on)
    SELECT pg_temp.bid('session', g), pg_temp.bid('session', g - 1)
    FROM generate_series(2, :n) AS g WHERE g % 20 = 7
    UNION
    SELECT a.id, b.id
    FROM _sess a
    JOIN _sess b ON b.g = 21 + (a.g * 3) % (:n - 20)
    WHERE a.status NOT IN ('TERMINATED', 'CANCELLED', 'ERROR') AND a.g % 3 = 0
      AND b.status IN ('TERMINATED', 'CANCELLED', 'ERROR') AND a.g <> b.g
    UNION
    SELECT pg_temp.bid('session', 9), pg_temp.bid('session', g) FROM generate_series(15, 17) g
    """),
    (R88, """
    INSERT INTO session_idle_checks (session_id, idle_checker_id, expire_at, last_status,
        last_message, updated_at)
    SELECT s.id, pg_temp.bid('idle', 1 + s.g % 2), se.created_at + interval '1 hour',
           CASE WHEN s.status IN ('TERMINATED', 'CANCELLED') THEN 'expired' ELSE 'ok' END, '',
           coalesce(se.terminated_at, now())
    FROM _sess s JOIN sessions se ON se.id = s.id WHERE s.g % 3 = 0 OR s.g <= 17
    """),
    (R99, """
    INSERT INTO session_idle_checks (session_id, idle_checker_id, expire_at, last_status,
        last_message, is_manual, manually_triggered_by, updated_at)
    SELECT s.id, pg_temp.bid('idle', 1 + s.g % 2), se.created_at + interval '1 hour',
           CASE WHEN s.status IN ('TERMINATED', 'CANCELLED') THEN 'expired' ELSE 'ok' END, '',
           s.g % 30 = 0, CASE WHEN s.g % 30 = 0 THEN se.user_uuid END,
           coalesce(se.terminated_at, now())
    FROM _sess s JOIN sessions se ON se.id = s.id WHERE s.g % 3 = 0 OR s.g <= 17
    """),
    # ------------------------------------------------------------------ deployments
    # endpoint e: 1..7 take each lifecycle stage once; later ones are 45% ready, 40% destroyed.
    (BOTH, """
    INSERT INTO endpoints (id, name, created_user, session_owner, replicas, desired_replicas,
        domain, project, resource_group, lifecycle_stage, scaling_state, url, open_to_public,
        created_at, destroyed_at, options, retries)
    SELECT pg_temp.bid('endpoint', x.e), 'ep-' || x.e, u.uuid, u.uuid,
           CASE WHEN x.stage = 'destroyed' THEN 0 ELSE 1 END, 1, g.domain_name, g.id, 'default',
           x.stage, CASE WHEN x.stage = 'scaling' THEN 'scaling' ELSE 'stable' END,
           'https://ep-' || x.e || '.apps.example.com', x.e % 2 = 0,
           now() - make_interval(secs => x.age + 86400 * 30),
           CASE WHEN x.stage = 'destroyed' AND NOT (x.e > 7 AND x.e % 31 = 11)
                THEN now() - make_interval(secs => x.age) END, '{}', 0
    FROM (SELECT e, random() * 400 * 86400 AS age,
                 CASE WHEN e <= 7 THEN (ARRAY['pending', 'created', 'scaling', 'ready',
                          'deploying', 'destroying', 'destroyed'])[e]
                      ELSE CASE WHEN p < 0.45 THEN 'ready' WHEN p < 0.60
                                THEN (ARRAY['pending', 'created', 'scaling', 'deploying',
                                            'destroying'])[1 + floor(random() * 5)::int]
                                ELSE 'destroyed' END END AS stage
          FROM (SELECT e, random() AS p FROM generate_series(1, :e) AS e) AS r) AS x
    JOIN users u ON u.uuid = pg_temp.bid('user', 1 + (x.e * 37) % :u)
    JOIN groups g ON g.id = pg_temp.bid('project', 1 + ((x.e * 37) % :u) % :p)
    """),
    # one placement group per replica group, and a few left unreferenced (collectable)
    (BOTH, """
    INSERT INTO session_groups (id, domain_id, project_id, owner_user_id, placement_direction,
        placement_enforcement, created_at)
    SELECT pg_temp.bid('sgrp', i), d.id, ep.project, ep.session_owner, 'spread', 'preferred',
           ep.created_at
    FROM generate_series(1, :e) AS e
    CROSS JOIN generate_series(0, 1) AS j
    CROSS JOIN LATERAL (SELECT e * 2 + j AS i) AS ix
    JOIN endpoints ep ON ep.id = pg_temp.bid('endpoint', e)
    JOIN domains d ON d.name = ep.domain
    WHERE j = 0 OR e % 3 = 0 OR e % 5 = 1
    """),
    (BOTH, """
    INSERT INTO deployment_revisions (id, endpoint, revision_number, model,
        model_mount_destination, model_definition_path, resource_group, resource_opts,
        runtime_variant_id, extra_mounts, created_at)
    SELECT pg_temp.bid('revision', e * 4 + r), ep.id, r, pg_temp.bid('vfolder', mv.vi),
           '/models', 'model-definition.yaml', 'default', '{}',
           pg_temp.bid('runtime', 1 + e % 2),
           CASE WHEN e <= 7 OR e % 3 = 0
                THEN jsonb_build_array(jsonb_build_object(
                         'vfolder_id', pg_temp.bid('vfolder', xv.vi)::text,
                         'mount_destination', '/home/work/data', 'mount_perm', 'ro',
                         'subpath', NULL))
                ELSE '[]'::jsonb END,
           ep.created_at + make_interval(days => r)
    FROM generate_series(1, :e) AS e
    CROSS JOIN LATERAL generate_series(1, 1 + e % 3) AS r
    CROSS JOIN LATERAL (SELECT CASE WHEN e <= 7 THEN 8 + (e + r) % 3
                                    ELSE 1 + (e * 11 + r) % :v END AS vi) AS mv
    CROSS JOIN LATERAL (SELECT CASE WHEN e <= 7 THEN 9 ELSE 1 + (e * 23 + r) % :v END AS vi) xv
    JOIN endpoints ep ON ep.id = pg_temp.bid('endpoint', e)
    """),
    (BOTH, """
    INSERT INTO replica_groups (id, deployment_id, current_revision_id, target_revision_id,
        desired_current_replica_count, session_group_id, lifecycle, scaling_status, rollout,
        created_at, updated_at)
    SELECT pg_temp.bid('rg', sg.i), ep.id, pg_temp.bid('revision', e * 4 + 1), NULL,
           CASE WHEN j = 0 AND ep.lifecycle_stage <> 'destroyed' THEN 1 ELSE 0 END,
           pg_temp.bid('sgrp', sg.i),
           CASE WHEN j = 1 THEN (ARRAY['drained', 'failed'])[1 + e % 2]
                WHEN ep.lifecycle_stage = 'destroyed' THEN 'drained'
                WHEN ep.lifecycle_stage = 'deploying' THEN 'rolling'
                WHEN ep.lifecycle_stage = 'destroying' THEN 'draining'
                ELSE 'stable' END, 'stable', '{}', ep.created_at,
           CASE WHEN j = 1 OR ep.lifecycle_stage = 'destroyed'
                THEN coalesce(ep.destroyed_at, ep.created_at + interval '2 days')
                ELSE now() - make_interval(secs => e * 60) END
    FROM generate_series(1, :e) AS e
    CROSS JOIN generate_series(0, 1) AS j
    CROSS JOIN LATERAL (SELECT e * 2 + j AS i) AS sg
    JOIN endpoints ep ON ep.id = pg_temp.bid('endpoint', e)
    WHERE j = 0 OR e % 3 = 0
    """),
    # routings: one per INFERENCE session (terminal for dead sessions: RESTRICT holds those),
    # plus one session-less routing per endpoint
    (BOTH, """
    INSERT INTO routings (id, endpoint, session, session_owner, domain, project, status,
        health_status, traffic_ratio, traffic_status, revision, replica_group_id, created_at,
        updated_at, replica_host, replica_port)
    SELECT pg_temp.bid('route', s.g), ep.id, s.id, se.user_uuid, se.domain_name, se.group_id,
           x.status, CASE WHEN x.status = 'running' THEN 'healthy' ELSE 'not_checked' END, 1.0,
           CASE WHEN x.status = 'running' THEN 'active' ELSE 'inactive' END,
           pg_temp.bid('revision', x.e * 4 + 1), pg_temp.bid('rg', x.e * 2),
           se.created_at, coalesce(se.terminated_at, now() - interval '1 minute'),
           '10.0.1.' || (s.g % 250), 8000
    FROM _sess s
    JOIN sessions se ON se.id = s.id
    CROSS JOIN LATERAL (
        SELECT 1 + (s.g / 20) % :e AS e,
               CASE WHEN s.status IN ('TERMINATED', 'CANCELLED', 'ERROR')
                    THEN CASE WHEN s.g % 3 = 0 THEN 'failed_to_start' ELSE 'terminated' END
                    WHEN s.status = 'TERMINATING' THEN 'terminating'
                    WHEN s.status = 'RUNNING' THEN 'running'
                    ELSE 'provisioning' END AS status) AS x
    JOIN endpoints ep ON ep.id = pg_temp.bid('endpoint', x.e)
    WHERE s.session_type = 'INFERENCE'
    UNION ALL
    SELECT pg_temp.bid('route0', e), ep.id, NULL, ep.session_owner, ep.domain, ep.project,
           CASE WHEN ep.lifecycle_stage = 'destroyed' THEN 'terminated' ELSE 'provisioning' END,
           'not_checked', 0.0, 'inactive', pg_temp.bid('revision', e * 4 + 1),
           pg_temp.bid('rg', e * 2), ep.created_at,
           coalesce(ep.destroyed_at, now() - interval '2 minutes'), NULL, NULL
    FROM generate_series(1, :e) AS e
    JOIN endpoints ep ON ep.id = pg_temp.bid('endpoint', e)
    """),
    (BOTH, """
    UPDATE sessions s SET replica_id = r.id FROM routings r WHERE r.session = s.id
    """),
    (BOTH, """
    INSERT INTO endpoint_tokens (token, endpoint, session_owner, domain, project, expires_at,
        created_at)
    SELECT 'tok-' || e || '-' || t, ep.id, ep.session_owner, ep.domain, ep.project,
           CASE WHEN t = 1 THEN ep.created_at + interval '30 days'
                WHEN e % 2 = 0 THEN NULL ELSE now() + interval '90 days' END,
           ep.created_at + make_interval(days => t)
    FROM generate_series(1, :e) AS e CROSS JOIN generate_series(1, 2) AS t
    JOIN endpoints ep ON ep.id = pg_temp.bid('endpoint', e)
    """),
    # ------------------------------------------------------------------ cases the pack guards
    # Rows made by copying an existing row of the same table (to_jsonb / jsonb_populate_record,
    # so every NOT NULL column of either release is filled) with the fields that make the case.
    # vfolders (copies of vf-1): 1 purged, only the model of a destroyed endpoint's revision
    # (pruned, the revision's model set NULL); 2 purged, an extra mount of a live endpoint's
    # revision; 3 purged, mounted by an ERROR session; 4 purged, attached to a RUNNING kernel;
    # 5 delete-error (storage may still hold data); 6 purged, the model of a live revision.
    (BOTH, """
    INSERT INTO vfolders
    SELECT (jsonb_populate_record(NULL::vfolders, to_jsonb(v) || jsonb_build_object(
        'id', pg_temp.bid('case-vf', c), 'name', 'case-vf-' || c,
        'status', CASE WHEN c = 5 THEN 'delete-error' ELSE 'delete-complete' END,
        'status_changed', now() - make_interval(days => 300 + c)))).*
    FROM vfolders v CROSS JOIN generate_series(1, 6) AS c
    WHERE v.id = pg_temp.bid('vfolder', 1)
    """),
    (BOTH, """
    UPDATE sessions s SET vfolder_mounts = coalesce(s.vfolder_mounts, '[]'::jsonb)
        || jsonb_build_array(jsonb_build_object(
               'name', v.name, 'vfid', v.quota_scope_id || '/' || replace(v.id::text, '-', ''),
               'vfsubpath', '.', 'host_path', '/vfroot/local/' || replace(v.id::text, '-', ''),
               'kernel_path', '/home/work/' || v.name, 'mount_perm', 'rw',
               'usage_mode', v.usage_mode::text))
    FROM vfolders v
    WHERE v.id = pg_temp.bid('case-vf', 3)
      AND s.id = (SELECT id FROM sessions WHERE status = 'ERROR' ORDER BY id LIMIT 1)
    """),
    (BOTH, """
    INSERT INTO vfolder_attachment (vfolder, kernel)
    SELECT pg_temp.bid('case-vf', 4), k.id FROM kernels k
    WHERE k.id = (SELECT id FROM kernels WHERE status = 'RUNNING' ORDER BY id LIMIT 1)
    """),
    # endpoints (copies of the destroyed ep-7), destroyed 200 days ago, no routing of their
    # own: 1 with revisions, a drained replica group and its session group, a token, a
    # deployment policy and history (pruned with it); 2 whose replica group a live endpoint's
    # routing points at (kept)
    (BOTH, """
    INSERT INTO endpoints
    SELECT (jsonb_populate_record(NULL::endpoints, to_jsonb(e) || jsonb_build_object(
        'id', pg_temp.bid('case-ep', c), 'name', 'case-ep-' || c,
        'url', 'https://case-ep-' || c || '.apps.example.com',
        'lifecycle_stage', 'destroyed', 'destroyed_at', now() - interval '200 days',
        'created_at', now() - interval '260 days'))).*
    FROM endpoints e CROSS JOIN generate_series(1, 2) AS c
    WHERE e.id = pg_temp.bid('endpoint', 7)
    """),
    (BOTH, """
    INSERT INTO session_groups
    SELECT (jsonb_populate_record(NULL::session_groups, to_jsonb(g) || jsonb_build_object(
        'id', pg_temp.bid('case-sg', c), 'created_at', now() - make_interval(days => 250 + c)
        ))).*
    FROM session_groups g CROSS JOIN generate_series(1, 4) AS c
    WHERE g.id = pg_temp.bid('sgrp', 14)
    """),
    (BOTH, """
    INSERT INTO deployment_revisions
    SELECT (jsonb_populate_record(NULL::deployment_revisions, to_jsonb(r) || jsonb_build_object(
        'id', pg_temp.bid('case-rev', c), 'endpoint', pg_temp.bid('case-ep', 1 + (c - 1) / 2),
        'revision_number', 1 + (c - 1) % 2,
        'model', CASE c WHEN 1 THEN pg_temp.bid('case-vf', 1) END,
        'extra_mounts', '[]'::jsonb, 'created_at', now() - interval '250 days'))).*
    FROM deployment_revisions r CROSS JOIN generate_series(1, 4) AS c
    WHERE r.id = pg_temp.bid('revision', 4 * 4 + 1)
    UNION ALL
    SELECT (jsonb_populate_record(NULL::deployment_revisions, to_jsonb(r) || jsonb_build_object(
        'id', pg_temp.bid('case-rev', 4 + c), 'revision_number', 10 + c,
        'model', CASE c WHEN 1 THEN pg_temp.bid('case-vf', 6) END,
        'extra_mounts', CASE c WHEN 2 THEN jsonb_build_array(jsonb_build_object(
            'vfolder_id', pg_temp.bid('case-vf', 2)::text, 'mount_destination', '/data',
            'mount_perm', 'ro', 'subpath', NULL)) ELSE '[]'::jsonb END))).*
    FROM deployment_revisions r CROSS JOIN generate_series(1, 2) AS c
    WHERE r.id = pg_temp.bid('revision', 4 * 4 + 1)
    """),
    (BOTH, """
    INSERT INTO replica_groups
    SELECT (jsonb_populate_record(NULL::replica_groups, to_jsonb(g) || jsonb_build_object(
        'id', pg_temp.bid('case-rg', c), 'deployment_id', pg_temp.bid('case-ep', c),
        'current_revision_id', pg_temp.bid('case-rev', 2 * c - 1),
        'session_group_id', pg_temp.bid('case-sg', c), 'lifecycle', 'drained',
        'desired_current_replica_count', 0, 'updated_at', now() - interval '200 days'))).*
    FROM replica_groups g CROSS JOIN generate_series(1, 2) AS c
    WHERE g.id = pg_temp.bid('rg', 4 * 2)
    """),
    (BOTH, """
    INSERT INTO routings
    SELECT (jsonb_populate_record(NULL::routings, to_jsonb(r) || jsonb_build_object(
        'id', pg_temp.bid('case-route', 1), 'replica_group_id', pg_temp.bid('case-rg', 2)))).*
    FROM routings r WHERE r.id = pg_temp.bid('route0', 4)
    """),
    (BOTH, """
    INSERT INTO endpoint_tokens
    SELECT (jsonb_populate_record(NULL::endpoint_tokens, to_jsonb(t) || jsonb_build_object(
        'id', pg_temp.bid('case-token', c), 'token', 'case-tok-' || c,
        'endpoint', pg_temp.bid('case-ep', c), 'expires_at', now() + interval '30 days'))).*
    FROM endpoint_tokens t CROSS JOIN generate_series(1, 2) AS c
    WHERE t.id = (SELECT id FROM endpoint_tokens ORDER BY id LIMIT 1)
    """),
    (BOTH, """
    INSERT INTO deployment_policies (endpoint, strategy, strategy_spec)
    SELECT pg_temp.bid('case-ep', c), 'rolling', '{}' FROM generate_series(1, 2) AS c
    """),
    # every endpoint has an auto-scaling policy (no foreign key: it names its endpoint)
    (BOTH, """
    INSERT INTO deployment_auto_scaling_policies (endpoint, min_replicas, max_replicas,
        scale_up_step_size, scale_down_step_size, cooldown_seconds, created_at, updated_at)
    SELECT id, 1, 4, 1, 1, 300, created_at, created_at FROM endpoints
    """),
    (BOTH, """
    INSERT INTO deployment_history (deployment_id, phase, from_status, to_status, result,
        message, attempts, created_at, updated_at)
    SELECT pg_temp.bid('case-ep', c), 'lifecycle', 'ready', 'destroyed', 'SUCCESS', 'destroy',
           1, now() - interval '200 days', now() - interval '200 days'
    FROM generate_series(1, 2) AS c
    """),
    # session groups 3 and 4 are used by no replica group: 3 holds two sessions that ended
    # (pruned with it, their reference set NULL), 4 a running one (kept)
    (BOTH, """
    UPDATE sessions SET session_group_id = pg_temp.bid('case-sg', 3)
    WHERE id IN (SELECT id FROM sessions WHERE status IN ('TERMINATED', 'CANCELLED')
                 ORDER BY id LIMIT 2)
    """),
    (BOTH, """
    UPDATE sessions SET session_group_id = pg_temp.bid('case-sg', 4)
    WHERE id = (SELECT id FROM sessions WHERE status = 'RUNNING' ORDER BY id LIMIT 1)
    """),
    # ------------------------------------------------------------------ vfolder references
    (BOTH, """
    INSERT INTO model_cards (id, name, vfolder, domain, project, creator, title, access_level,
        created_at, updated_at)
    SELECT pg_temp.bid('card', v), 'card-' || v, vf.id, vf.domain_name,
           coalesce(vf."group", pg_temp.bid('project', 1)), vf.creator_id, 'Model ' || v,
           'internal', vf.created_at, vf.updated_at
    FROM generate_series(1, :v) AS v
    JOIN vfolders vf ON vf.id = pg_temp.bid('vfolder', v)
    WHERE vf.usage_mode = 'model'
    """),
    (R88, """
    INSERT INTO vfolder_permissions (vfolder, "user", permission)
    SELECT vf.id, pg_temp.bid('user', 1 + (v * 13 + k) % :u),
           (CASE WHEN k = 1 THEN 'ro' ELSE 'rw' END)::vfoldermountpermission
    FROM generate_series(1, :v) AS v CROSS JOIN generate_series(1, 2) AS k
    JOIN vfolders vf ON vf.id = pg_temp.bid('vfolder', v)
    WHERE v % 3 = 0 AND (k = 1 OR v % 6 = 0)
    """),
    (R88, """
    INSERT INTO vfolder_invitations (vfolder, inviter, invitee, permission, state, created_at,
        modified_at)
    SELECT vf.id, vf.creator, 'user-' || (1 + (v * 13 + 5) % :u) || '@example.com',
           'ro'::vfoldermountpermission,
           (ARRAY['pending', 'accepted', 'rejected', 'canceled'])[1 + (v / 4) % 4]
               ::vfolderinvitationstate,
           vf.created_at, vf.created_at + make_interval(days => v % 200)
    FROM generate_series(1, :v) AS v
    JOIN vfolders vf ON vf.id = pg_temp.bid('vfolder', v)
    WHERE v % 4 = 0
    """),
    (R99, """
    INSERT INTO vfolder_user_mount_policies (vfolder_id, user_id, permission, created_at,
        updated_at)
    SELECT vf.id, pg_temp.bid('user', 1 + (v * 13 + k) % :u),
           (ARRAY['ro', 'rw', 'none'])[1 + (v + k) % 3], vf.created_at, vf.updated_at
    FROM generate_series(1, :v) AS v CROSS JOIN generate_series(1, 2) AS k
    JOIN vfolders vf ON vf.id = pg_temp.bid('vfolder', v)
    WHERE v % 3 = 0 AND (k = 1 OR v % 6 = 0)
    """),
    # ------------------------------------------------------------------ RBAC, 26.8
    (R88, """
    INSERT INTO roles (id, name, source, status, deleted_at, created_at, updated_at)
    SELECT pg_temp.bid('role', i), 'user-role-' || i, 'system', 'active', NULL,
           now() - interval '500 days', now() - interval '500 days'
    FROM generate_series(1, :u) AS i
    UNION ALL
    SELECT pg_temp.bid('role-old', i), 'retired-role-' || i, 'custom',
           CASE WHEN i % 3 = 0 THEN 'inactive' ELSE 'deleted' END,
           CASE WHEN i % 3 = 0 THEN NULL
                WHEN i % 17 = 5 THEN NULL
                ELSE now() - make_interval(days => (i * 7) % 400) END,
           now() - interval '450 days', now() - make_interval(days => (i * 7) % 400)
    FROM generate_series(1, greatest(:u / 10, 5)) AS i
    """),
    (R88, """
    INSERT INTO user_roles (user_id, role_id)
    SELECT pg_temp.bid('user', i), pg_temp.bid('role', i) FROM generate_series(1, :u) AS i
    UNION ALL
    SELECT pg_temp.bid('user', 1 + i % :u), pg_temp.bid('role-old', i)
    FROM generate_series(1, greatest(:u / 10, 5)) AS i
    """),
    (R88, """
    INSERT INTO role_invitations (inviter_user_id, invitee_user_id, role_id, state, created_at,
        updated_at)
    SELECT pg_temp.bid('user', 1), pg_temp.bid('user', 1 + (i * 7) % :u),
           pg_temp.bid('role', 1 + (i * 11) % :u),
           (ARRAY['pending', 'accepted', 'rejected', 'canceled'])[1 + i % 4],
           now() - make_interval(days => (i * 13) % 400),
           CASE WHEN i % 4 = 0 THEN NULL ELSE now() - make_interval(days => (i * 11) % 400) END
    FROM generate_series(1, greatest(:u / 5, 8)) AS i
    """),
    (R88, """
    INSERT INTO association_scopes_entities (scope_type, scope_id, entity_type, entity_id,
        relation_type, registered_at)
    SELECT 'user', s.user_uuid::text, 'session', s.id::text, 'auto', s.created_at
    FROM sessions s
    UNION ALL
    SELECT 'project', s.group_id::text, 'session', s.id::text, 'auto', s.created_at
    FROM sessions s
    UNION ALL
    SELECT 'session', k.session_id::text, 'kernel', k.id::text, 'auto', k.created_at
    FROM kernels k
    UNION ALL
    SELECT CASE WHEN v.ownership_type = 'user' THEN 'user' ELSE 'project' END,
           coalesce(v."user", v."group")::text, 'vfolder', v.id::text, 'auto', v.created_at
    FROM vfolders v
    UNION ALL
    SELECT 'model_deployment', r.endpoint::text, 'routing', r.id::text, 'auto', r.created_at
    FROM routings r
    UNION ALL
    SELECT 'model_deployment', t.endpoint::text, 'deployment:token', t.id::text, 'auto',
           t.created_at
    FROM endpoint_tokens t
    UNION ALL
    SELECT 'project', c.project::text, 'model_card', c.id::text, 'auto', c.created_at
    FROM model_cards c
    UNION ALL
    SELECT 'domain', d.id::text, 'project', g.id::text, 'auto', now() - interval '500 days'
    FROM groups g JOIN domains d ON d.name = g.domain_name
    """),
    # a vfolder shared with a user: the user sees it by a ref edge...
    (R88, """
    INSERT INTO association_scopes_entities (scope_type, scope_id, entity_type, entity_id,
        relation_type)
    SELECT 'user', p."user"::text, 'vfolder', p.vfolder::text, 'ref'
    FROM vfolder_permissions p
    ON CONFLICT ON CONSTRAINT uq_scope_id_entity_id DO NOTHING
    """),
    # ...and the user's role holds permissions scoped to the vfolder (entity-as-scope)
    (R88, """
    INSERT INTO permissions (role_id, scope_type, scope_id, entity_type, operation, permission)
    SELECT pg_temp.bid('role', 1 + (v * 13 + k) % :u), 'vfolder', pg_temp.bid('vfolder', v)::text,
           'vfolder', op.operation, op.bit
    FROM generate_series(1, :v) AS v CROSS JOIN generate_series(1, 2) AS k
    CROSS JOIN (VALUES ('read', 1::smallint), ('update', 2::smallint)) AS op (operation, bit)
    WHERE v % 3 = 0 AND (k = 1 OR v % 6 = 0) AND (op.operation = 'read' OR k = 2)
    ON CONFLICT DO NOTHING
    """),
    (R88, """
    INSERT INTO permissions (role_id, scope_type, scope_id, entity_type, operation, permission)
    SELECT pg_temp.bid('role', i), 'user', pg_temp.bid('user', i)::text, et.entity_type,
           'read', 1
    FROM generate_series(1, :u) AS i
    CROSS JOIN (VALUES ('session'), ('vfolder'), ('model_deployment')) AS et (entity_type)
    """),
    (R88, """
    INSERT INTO object_permissions (role_id, entity_type, entity_id, operation)
    SELECT pg_temp.bid('role', 1 + (v * 13) % :u), 'vfolder', pg_temp.bid('vfolder', v)::text,
           'read'
    FROM generate_series(1, :v) AS v WHERE v % 5 = 1
    UNION ALL
    SELECT pg_temp.bid('role', 1 + (g * 7919) % :u), 'session', pg_temp.bid('session', g)::text,
           'read'
    FROM generate_series(1, :n) AS g WHERE g % 10 = 1
    """),
    (R88, """
    INSERT INTO virtual_scopes (id, scope_type, scope_id)
    SELECT pg_temp.bid('vscope', p), 'project', pg_temp.bid('project', p)
    FROM generate_series(1, :p) AS p
    """),
    (R88, """
    INSERT INTO entity_memberships (virtual_scope_id, entity_type, entity_id)
    SELECT pg_temp.bid('vscope', p), 'project', pg_temp.bid('project', p)
    FROM generate_series(1, :p) AS p
    UNION ALL
    SELECT pg_temp.bid('vscope', 1 + (i - 1) % :p), 'user', pg_temp.bid('user', i)
    FROM generate_series(1, :u) AS i
    """),
    (R88, """
    INSERT INTO scope_bindings (virtual_scope_id, scope_type, scope_id)
    SELECT pg_temp.bid('vscope', p), 'project', pg_temp.bid('project', p)
    FROM generate_series(1, :p) AS p
    """),
    # ------------------------------------------------------------------ RBAC, 26.9 (graph)
    (R99, """
    INSERT INTO roles (id, name, source, status, auto_assign, deleted_at, scope_type, scope_id,
        created_at, updated_at)
    SELECT pg_temp.bid('role', i), 'user-role-' || i, 'system', 'active', true,
           CAST(NULL AS timestamptz), 'user',
           pg_temp.bid('user', i), now() - interval '500 days', now() - interval '500 days'
    FROM generate_series(1, :u) AS i
    UNION ALL
    SELECT pg_temp.bid('role-p', p), 'project-admin-' || p, 'system', 'active', false, NULL,
           'project', pg_temp.bid('project', p), now() - interval '500 days',
           now() - interval '500 days'
    FROM generate_series(1, :p) AS p
    UNION ALL
    SELECT pg_temp.bid('role-old', i), 'retired-role-' || i, 'custom',
           CASE WHEN i % 3 = 0 THEN 'inactive' ELSE 'deleted' END, false,
           CASE WHEN i % 3 = 0 THEN NULL
                WHEN i % 17 = 5 THEN NULL
                ELSE now() - make_interval(days => (i * 7) % 400) END,
           'user', pg_temp.bid('user', 1 + i % :u), now() - interval '450 days',
           now() - make_interval(days => (i * 7) % 400)
    FROM generate_series(1, greatest(:u / 10, 5)) AS i
    UNION ALL
    SELECT pg_temp.bid('role-s', g), 'session-viewer-' || g, 'custom', 'active', false, NULL,
           'session', pg_temp.bid('session', g), now() - interval '30 days',
           now() - interval '30 days'
    FROM generate_series(1, :n) AS g WHERE g % 50 = 15
    UNION ALL
    SELECT pg_temp.bid('role-v', v), 'vfolder-editor-' || v, 'custom', 'active', false, NULL,
           'vfolder', pg_temp.bid('vfolder', v), now() - interval '30 days',
           now() - interval '30 days'
    FROM generate_series(1, :v) AS v WHERE v % 25 = 9
    """),
    (R99, """
    INSERT INTO permissions (role_id, entity_type, permission)
    SELECT r.id, et.entity_type, bit.b
    FROM roles r
    CROSS JOIN (VALUES ('session'), ('vfolder'), ('deployment')) AS et (entity_type)
    CROSS JOIN (VALUES (1::smallint), (2::smallint), (4::smallint)) AS bit (b)
    WHERE r.name LIKE 'user-role-%' OR r.name LIKE 'project-admin-%' OR bit.b = 1
    """),
    (R99, """
    INSERT INTO user_roles (user_id, role_id)
    SELECT r.scope_id, r.id FROM roles r WHERE r.scope_type = 'user'
    UNION ALL
    SELECT pg_temp.bid('user', i), pg_temp.bid('role-p', 1 + (i - 1) % :p)
    FROM generate_series(1, :u) AS i WHERE i % 10 = 1
    """),
    (R99, """
    INSERT INTO virtual_entities (entity_type, entity_id, created_at)
    SELECT 'domain', id, created_at FROM domains
    UNION ALL SELECT 'project', id, created_at FROM groups
    UNION ALL SELECT 'user', uuid, created_at FROM users
    UNION ALL SELECT 'resource_group', id, created_at FROM scaling_groups
    UNION ALL SELECT 'idle_checker', id, created_at FROM idle_checkers
    UNION ALL SELECT 'runtime_variant', id, created_at FROM runtime_variants
    UNION ALL SELECT 'session', id, created_at FROM sessions
    UNION ALL SELECT 'vfolder', id, created_at FROM vfolders
    UNION ALL SELECT 'deployment', id, created_at FROM endpoints
    UNION ALL SELECT 'session_group', id, created_at FROM session_groups
    UNION ALL SELECT 'model_card', id, created_at FROM model_cards
    UNION ALL SELECT 'role', id, created_at FROM roles
    """),
    # shares name their target and recipient nodes (FK, not deferrable), so they come after
    (R99, """
    INSERT INTO entity_shares (id, sharer_user_id, recipient_entity_type, recipient_entity_id,
        recipient_email, target_entity_type, target_entity_id, permission_cap, expires_at,
        status, created_at, updated_at)
    SELECT pg_temp.bid('share-v', v), vf.creator_id, 'user',
           pg_temp.bid('user', 1 + (v * 13 + 7) % :u), NULL, 'vfolder', vf.id, 3, x.expires_at,
           x.status, vf.created_at, x.updated_at
    FROM generate_series(1, :v) AS v
    JOIN vfolders vf ON vf.id = pg_temp.bid('vfolder', v)
    CROSS JOIN LATERAL (
        SELECT st AS status,
               CASE WHEN st = 'pending' THEN now() + make_interval(days => 7 - (v * 5) % 30) END
                   AS expires_at,
               now() - make_interval(days => (v * 11) % 400) AS updated_at
        FROM (SELECT (ARRAY['pending', 'accepted', 'rejected', 'canceled', 'revoked'])
                     [1 + (v / 4) % 5] AS st) AS q) AS x
    WHERE v % 4 = 0
    UNION ALL
    SELECT pg_temp.bid('share-s', g), se.user_uuid, 'project', se.group_id, NULL, 'session',
           se.id, 1, NULL, CASE WHEN g % 80 = 41 THEN 'revoked' ELSE 'accepted' END,
           se.created_at, coalesce(se.terminated_at, now())
    FROM generate_series(1, :n) AS g
    JOIN sessions se ON se.id = pg_temp.bid('session', g)
    WHERE g % 40 = 1  -- not INFERENCE: a routing would hold those sessions
    UNION ALL
    SELECT pg_temp.bid('share-e', v), vf.creator_id, NULL, NULL,
           'guest-' || v || '@example.org', 'vfolder', vf.id, 1,
           now() - make_interval(days => (v * 3) % 200), 'pending', vf.created_at,
           vf.created_at
    FROM generate_series(1, :v) AS v
    JOIN vfolders vf ON vf.id = pg_temp.bid('vfolder', v)
    WHERE v % 8 = 5
    """),
    (R99, """
    INSERT INTO virtual_entities (entity_type, entity_id, created_at)
    SELECT 'entity_share', id, created_at FROM entity_shares
    """),
    # every node owns and governs itself
    (R99, """
    INSERT INTO entity_memberships (virtual_entity_id, member_entity_id, capped, created_at)
    SELECT id, id, false, created_at FROM virtual_entities
    ON CONFLICT (virtual_entity_id, member_entity_id) DO NOTHING
    """),
    (R99, """
    INSERT INTO scope_bindings (virtual_entity_id, scope_entity_id, permission_cap, created_at)
    SELECT id, id, NULL, created_at FROM virtual_entities
    ON CONFLICT DO NOTHING
    """),
    # created-in edges: the scope owns (membership scope -> node) and governs (binding)
    (R99, """
    CREATE TEMP TABLE _created_in ON COMMIT DROP AS
    SELECT n.id AS node, sc.id AS scope, n.created_at
    FROM (SELECT 'project' AS et, g.id, 'domain' AS st, d.id AS sid FROM groups g
          JOIN domains d ON d.name = g.domain_name
          UNION ALL SELECT 'project', g.id, 'global', ge.id FROM groups g
          JOIN global_entities ge ON ge.name = 'global'
          UNION ALL SELECT 'user', u.uuid, 'domain', u.domain_id FROM users u
          UNION ALL SELECT 'user', u.uuid, 'global', ge.id FROM users u
          JOIN global_entities ge ON ge.name = 'global'
          UNION ALL SELECT 'session', s.id, 'user', s.user_uuid FROM sessions s
          UNION ALL SELECT 'session', s.id, 'project', s.group_id FROM sessions s
          UNION ALL SELECT 'vfolder', v.id, 'project', v."group" FROM vfolders v
          UNION ALL SELECT 'deployment', e.id, 'project', e.project FROM endpoints e
          UNION ALL SELECT 'deployment', e.id, 'user', e.session_owner FROM endpoints e
          UNION ALL SELECT 'model_card', c.id, 'project', c.project FROM model_cards c
          UNION ALL SELECT 'model_card', c.id, 'user', c.creator FROM model_cards c
          UNION ALL SELECT 'session_group', sg.id, 'project', sg.project_id
          FROM session_groups sg
          UNION ALL SELECT 'session_group', sg.id, 'user', sg.owner_user_id
          FROM session_groups sg
          UNION ALL SELECT 'role', r.id, r.scope_type, r.scope_id FROM roles r
          UNION ALL SELECT 'entity_share', s.id, s.target_entity_type, s.target_entity_id
          FROM entity_shares s
          UNION ALL SELECT 'resource_group', sg.id, 'global', ge.id FROM scaling_groups sg
          JOIN global_entities ge ON ge.name = 'global'
          UNION ALL SELECT 'runtime_variant', rv.id, 'global', ge.id FROM runtime_variants rv
          JOIN global_entities ge ON ge.name = 'global'
          UNION ALL SELECT 'idle_checker', ic.id, 'global', ge.id FROM idle_checkers ic
          JOIN global_entities ge ON ge.name = 'global') AS src
    JOIN virtual_entities n ON n.entity_type = src.et AND n.entity_id = src.id
    JOIN virtual_entities sc ON sc.entity_type = src.st AND sc.entity_id = src.sid
    """),
    (R99, """
    INSERT INTO entity_memberships (virtual_entity_id, member_entity_id, capped, created_at)
    SELECT scope, node, false, created_at FROM _created_in
    ON CONFLICT (virtual_entity_id, member_entity_id) DO NOTHING
    """),
    (R99, """
    INSERT INTO scope_bindings (virtual_entity_id, scope_entity_id, permission_cap, created_at)
    SELECT node, scope, NULL, created_at FROM _created_in
    ON CONFLICT DO NOTHING
    """),
    # relations: a session governs its idle checkers under READ; the checker holds a capped
    # (READ) membership of the session. Project rosters: the project holds its users capped.
    (R99, """
    CREATE TEMP TABLE _relation ON COMMIT DROP AS
    SELECT ic.id AS node, s.id AS scope
    FROM session_idle_checks c
    JOIN virtual_entities ic ON ic.entity_type = 'idle_checker' AND ic.entity_id = c.idle_checker_id
    JOIN virtual_entities s ON s.entity_type = 'session' AND s.entity_id = c.session_id
    """),
    (R99, """
    INSERT INTO scope_bindings (virtual_entity_id, scope_entity_id, permission_cap)
    SELECT node, scope, 1 FROM _relation ON CONFLICT DO NOTHING
    """),
    (R99, """
    INSERT INTO entity_memberships (virtual_entity_id, member_entity_id, capped)
    SELECT node, scope, true FROM _relation
    UNION ALL
    SELECT p.id, u.id, true
    FROM association_groups_users a
    JOIN virtual_entities p ON p.entity_type = 'project' AND p.entity_id = a.group_id
    JOIN virtual_entities u ON u.entity_type = 'user' AND u.entity_id = a.user_id
    UNION ALL
    SELECT p.id, u.id, true
    FROM groups g
    JOIN virtual_entities p ON p.entity_type = 'project' AND p.entity_id = g.id
    JOIN virtual_entities u ON u.entity_type = 'user' AND u.entity_id = g.creator_id
    WHERE g.type = 'personal'
    ON CONFLICT (virtual_entity_id, member_entity_id) DO NOTHING
    """),
    # accepted shares land in the recipient project (or the recipient's personal project)
    (R99, """
    INSERT INTO entity_memberships (virtual_entity_id, member_entity_id, capped)
    SELECT DISTINCT landing.id, target.id, true
    FROM entity_shares s
    LEFT JOIN groups personal ON s.recipient_entity_type = 'user' AND personal.type = 'personal'
                             AND personal.creator_id = s.recipient_entity_id
    JOIN virtual_entities landing
      ON landing.entity_type = 'project'
     AND landing.entity_id = CASE WHEN s.recipient_entity_type = 'project'
                                  THEN s.recipient_entity_id ELSE personal.id END
    JOIN virtual_entities target
      ON target.entity_type = s.target_entity_type AND target.entity_id = s.target_entity_id
    WHERE s.status = 'accepted'
    ON CONFLICT (virtual_entity_id, member_entity_id) DO NOTHING
    """),
    (R99, """
    INSERT INTO entity_membership_caps (membership_id, permission, all_fields)
    SELECT m.id, 1, true FROM entity_memberships m WHERE m.capped
    UNION ALL
    SELECT m.id, 2, true
    FROM entity_memberships m
    JOIN virtual_entities t ON t.id = m.member_entity_id AND t.entity_type = 'vfolder'
    WHERE m.capped
    ON CONFLICT (membership_id, permission) DO NOTHING
    """),
    (R99, """
    INSERT INTO entity_labels (entity_type, entity_id, key, value)
    SELECT 'session', pg_temp.bid('session', g), 'team', (ARRAY['ml', 'infra', 'edu'])[1 + g % 3]
    FROM generate_series(1, :n) AS g WHERE g % 5 = 0
    UNION ALL
    SELECT 'vfolder', pg_temp.bid('vfolder', v), 'tier', (ARRAY['hot', 'cold'])[1 + v % 2]
    FROM generate_series(1, :v) AS v WHERE v % 4 = 1
    UNION ALL
    SELECT 'deployment', pg_temp.bid('endpoint', e), 'owner', 'team-' || (e % 4)
    FROM generate_series(1, :e) AS e
    """),
    # ------------------------------------------------------------------ logs
    (R88, """
    INSERT INTO audit_logs (id, entity_type, operation, entity_id, created_at, action_id,
        request_id, triggered_by, description, duration, status)
    SELECT pg_temp.bid('audit', i), x.et, x.op, pg_temp.bid(x.et, 1 + i % :n)::text, x.at,
           pg_temp.bid('action', i), md5('req' || i), pg_temp.bid('user', 1 + i % :u)::text,
           x.op || ' ' || x.et, make_interval(secs => (i % 500) / 100.0),
           (ARRAY['success', 'success', 'success', 'error', 'running', 'unknown'])[1 + i % 6]
    FROM generate_series(1, :n) AS i
    CROSS JOIN LATERAL (
        SELECT (ARRAY['session', 'vfolder', 'user', 'model_deployment'])[1 + i % 4] AS et,
               (ARRAY['create', 'update', 'terminate', 'delete', 'purge'])[1 + i % 5] AS op,
               now() - make_interval(secs => (:n - i)::double precision / :n * 400 * 86400)
                   AS at) AS x
    """),
    (R99, """
    INSERT INTO audit_logs (id, action_kind, entity_type, operation, action_name, entity_id,
        lookup_kind, lookup_key, created_at, action_id, request_id, triggered_by, description,
        duration, client_ip, status)
    SELECT pg_temp.bid('audit', i), 'single', x.et, x.op, x.et || ':' || x.op,
           pg_temp.bid(x.et, 1 + i % :n)::text, 'id', pg_temp.bid(x.et, 1 + i % :n)::text, x.at,
           pg_temp.bid('action', i), md5('req' || i), pg_temp.bid('user', 1 + i % :u)::text,
           x.op || ' ' || x.et, make_interval(secs => (i % 500) / 100.0),
           ('10.1.' || (i % 250) || '.' || (i % 200))::inet,
           (ARRAY['success', 'success', 'success', 'error', 'running', 'unknown',
                  'denied'])[1 + i % 7]
    FROM generate_series(1, :n) AS i
    CROSS JOIN LATERAL (
        SELECT (ARRAY['session', 'vfolder', 'user', 'deployment'])[1 + i % 4] AS et,
               (ARRAY['create', 'update', 'terminate', 'delete', 'purge'])[1 + i % 5] AS op,
               now() - make_interval(secs => (:n - i)::double precision / :n * 400 * 86400)
                   AS at) AS x
    """),
    (R99, """
    INSERT INTO audit_log_scopes (audit_log_id, scope_type, scope_id)
    SELECT a.id, 'user', a.triggered_by FROM audit_logs a
    UNION ALL
    SELECT a.id, 'project', pg_temp.bid('project', 1 + i % :p)::text
    FROM generate_series(1, :n) AS i JOIN audit_logs a ON a.id = pg_temp.bid('audit', i)
    WHERE i % 2 = 0
    """),
    (BOTH, """
    INSERT INTO event_logs (event_name, event_domain, domain_id, created_at, duration)
    SELECT (ARRAY['session_started', 'session_terminated', 'kernel_pulling', 'agent_heartbeat',
                  'vfolder_deleted'])[1 + i % 5],
           (ARRAY['session', 'session', 'kernel', 'agent', 'vfolder'])[1 + i % 5],
           pg_temp.bid('session', 1 + i % :n)::text,
           now() - make_interval(secs => random() * 400 * 86400),
           make_interval(secs => (i % 90))
    FROM generate_series(1, :n) AS i
    """),
    (BOTH, """
    INSERT INTO error_logs (severity, source, "user", is_read, is_cleared, message, context_lang,
        context_env, request_url, request_status, traceback, created_at)
    SELECT (ARRAY['error', 'warning', 'critical'])[1 + i % 3]::errorlog_severity, 'manager',
           pg_temp.bid('user', 1 + i % :u), i % 2 = 0, i % 4 = 0, 'failure #' || i, 'python3',
           '{}', '/func/session', 500, 'Traceback (most recent call last): ...',
           now() - make_interval(secs => random() * 400 * 86400)
    FROM generate_series(1, greatest(:n / 10, 20)) AS i
    """),
    (R88, """
    INSERT INTO login_history (user_id, domain_name, result, fail_reason, created_at)
    SELECT u.uuid, u.domain_name, x.result,
           CASE WHEN x.result LIKE 'failed%' THEN 'rejected' END,
           now() - make_interval(secs => random() * 400 * 86400)
    FROM generate_series(1, greatest(:n / 2, 20)) AS i
    JOIN users u ON u.uuid = pg_temp.bid('user', 1 + i % :u)
    CROSS JOIN LATERAL (SELECT (ARRAY['success', 'success', 'success',
        'failed_invalid_credentials', 'logout', 'expired', 'revoked_by_admin'])[1 + i % 7]
        AS result) AS x
    """),
    (R99, """
    INSERT INTO login_history (user_id, domain_name, result, fail_reason, client_ip, created_at)
    SELECT u.uuid, u.domain_name, x.result,
           CASE WHEN x.result LIKE 'failed%' THEN 'rejected' END,
           ('10.2.' || (i % 250) || '.' || (i % 200))::inet,
           now() - make_interval(secs => random() * 400 * 86400)
    FROM generate_series(1, greatest(:n / 2, 20)) AS i
    JOIN users u ON u.uuid = pg_temp.bid('user', 1 + i % :u)
    CROSS JOIN LATERAL (SELECT (ARRAY['success', 'success', 'success',
        'failed_invalid_credentials', 'logout', 'expired', 'revoked_by_admin'])[1 + i % 7]
        AS result) AS x
    """),
    (BOTH, """
    INSERT INTO login_sessions (session_token, user_id, access_key, login_client_type_id,
        status, last_accessed_at, invalidated_at, created_at)
    SELECT md5('login' || i), pg_temp.bid('user', 1 + i % :u),
           'AK' || lpad((1 + i % :u)::text, 18, '0'), pg_temp.bid('client', 1 + i % 2),
           x.status, x.created_at + interval '1 hour',
           CASE WHEN x.status <> 'active' AND i % 29 <> 3
                THEN x.created_at + interval '2 hours' END,
           x.created_at
    FROM generate_series(1, :u * 3) AS i
    CROSS JOIN LATERAL (
        SELECT CASE WHEN i % 20 < 10 THEN 'active' WHEN i % 20 < 17 THEN 'invalidated'
                    ELSE 'revoked' END AS status,
               now() - make_interval(secs => random() * 400 * 86400) AS created_at) AS x
    """),
    # ------------------------------------------------------------------ histories (FK-less)
    (BOTH, """
    INSERT INTO session_scheduling_history (session_id, phase, from_status, to_status, result,
        error_code, message, attempts, created_at, updated_at)
    SELECT se.id, ph.phase, ph.from_status, ph.to_status,
           CASE WHEN ph.step = 3 AND se.status = 'ERROR' THEN 'FAILURE' ELSE 'SUCCESS' END,
           CASE WHEN ph.step = 3 AND se.status = 'ERROR' THEN 'E_AGENT' END,
           ph.phase || ' done', 1 + (ph.step + s.g) % 3,
           se.created_at + make_interval(secs => ph.step * 30),
           coalesce(CASE WHEN ph.step = 3 THEN se.terminated_at END,
                    se.created_at + make_interval(secs => ph.step * 30 + 5))
    FROM _sess s JOIN sessions se ON se.id = s.id
    CROSS JOIN LATERAL (VALUES (1, 'schedule', 'PENDING', 'SCHEDULED'),
                               (2, 'start', 'SCHEDULED', 'RUNNING'),
                               (3, 'terminate', 'RUNNING', se.status))
        AS ph (step, phase, from_status, to_status)
    WHERE ph.step < 3 OR se.status IN ('TERMINATED', 'CANCELLED', 'ERROR')
    """),
    (BOTH, """
    INSERT INTO kernel_scheduling_history (kernel_id, session_id, phase, from_status, to_status,
        result, message, attempts, created_at, updated_at)
    SELECT k.id, k.session_id, ph.phase, ph.from_status, ph.to_status, 'SUCCESS',
           ph.phase || ' done', 1, k.created_at + make_interval(secs => ph.step * 20),
           coalesce(CASE WHEN ph.step = 2 THEN k.terminated_at END,
                    k.created_at + make_interval(secs => ph.step * 20 + 3))
    FROM kernels k
    CROSS JOIN LATERAL (VALUES (1, 'prepare', 'SCHEDULED', 'PREPARED'),
                               (2, 'run', 'PREPARED', k.status))
        AS ph (step, phase, from_status, to_status)
    """),
    (BOTH, """
    INSERT INTO deployment_history (deployment_id, phase, from_status, to_status, result,
        message, attempts, created_at, updated_at)
    SELECT ep.id, ph.phase, ph.from_status, ph.to_status, 'SUCCESS', ph.phase, 1,
           ep.created_at + make_interval(mins => ph.step),
           CASE WHEN ph.step = 4 THEN coalesce(ep.destroyed_at, now())
                ELSE ep.created_at + make_interval(mins => ph.step, secs => 5) END
    FROM endpoints ep
    CROSS JOIN LATERAL (VALUES (1, 'create', 'pending', 'created'),
                               (2, 'scale', 'created', 'scaling'),
                               (3, 'ready', 'scaling', 'ready'),
                               (4, 'lifecycle', 'ready', ep.lifecycle_stage))
        AS ph (step, phase, from_status, to_status)
    """),
    (BOTH, """
    INSERT INTO route_history (route_id, deployment_id, phase, from_status, to_status, result,
        message, attempts, created_at, updated_at)
    SELECT r.id, r.endpoint, ph.phase, ph.from_status, ph.to_status, 'SUCCESS', ph.phase, 1,
           r.created_at + make_interval(secs => ph.step * 10),
           CASE WHEN ph.step = 2 THEN r.updated_at
                ELSE r.created_at + make_interval(secs => ph.step * 10 + 2) END
    FROM routings r
    CROSS JOIN LATERAL (VALUES (1, 'provision', 'provisioning', 'running'),
                               (2, 'settle', 'running', r.status))
        AS ph (step, phase, from_status, to_status)
    """),
    (BOTH, """
    INSERT INTO replica_group_history (replica_group_id, deployment_id, phase, from_status,
        to_status, result, message, attempts, created_at, updated_at)
    SELECT rg.id, rg.deployment_id, ph.phase, ph.from_status, ph.to_status, 'SUCCESS',
           ph.phase, 1, rg.created_at + make_interval(mins => ph.step),
           CASE WHEN ph.step = 2 THEN rg.updated_at
                ELSE rg.created_at + make_interval(mins => ph.step, secs => 3) END
    FROM replica_groups rg
    CROSS JOIN LATERAL (VALUES (1, 'rollout', 'rolling', 'stable'),
                               (2, 'lifecycle', 'stable', rg.lifecycle))
        AS ph (step, phase, from_status, to_status)
    """),
    (BOTH, """
    INSERT INTO kernel_usage_records (kernel_id, session_id, user_uuid, project_id, domain_name,
        resource_group, resource_group_id, period_start, period_end, resource_usage)
    SELECT k.id, k.session_id, k.user_uuid, k.group_id, k.domain_name, k.scaling_group,
           k.resource_group_id, k.created_at + make_interval(hours => w - 1),
           least(k.created_at + make_interval(hours => w),
                 coalesce(k.terminated_at, now())),
           jsonb_build_object('cpu', w * 3600, 'mem', w * 2147483648)
    FROM kernels k
    CROSS JOIN generate_series(1, 2) AS w
    WHERE k.status NOT IN ('PENDING', 'SCHEDULED', 'CANCELLED')
    """),
    # usage buckets (date periods): per domain daily, per project and per user weekly
    (BOTH, """
    INSERT INTO domain_usage_buckets (domain_name, resource_group, resource_group_id,
        period_start, period_end, decay_unit_days, resource_usage, capacity_snapshot,
        created_at, updated_at)
    SELECT d.name, sg.name, sg.id, current_date - day, current_date - day + 1, 1,
           '{"cpu": 3600}', '{"cpu": 64}', now() - make_interval(days => day),
           now() - make_interval(days => day)
    FROM domains d
    JOIN scaling_groups sg ON sg.name = 'default'
    CROSS JOIN generate_series(1, 400) AS day
    """),
    (BOTH, """
    INSERT INTO project_usage_buckets (project_id, domain_name, resource_group,
        resource_group_id, period_start, period_end, decay_unit_days, resource_usage,
        capacity_snapshot, created_at, updated_at)
    SELECT g.id, g.domain_name, sg.name, sg.id, current_date - 7 * w, current_date - 7 * w + 7,
           7, '{"cpu": 7200}', '{"cpu": 64}', now() - make_interval(days => 7 * w),
           now() - make_interval(days => 7 * w)
    FROM generate_series(1, :p) AS p
    JOIN groups g ON g.id = pg_temp.bid('project', p)
    JOIN scaling_groups sg ON sg.name = 'default'
    CROSS JOIN generate_series(1, 58) AS w
    """),
    (BOTH, """
    INSERT INTO user_usage_buckets (user_uuid, project_id, domain_name, resource_group,
        resource_group_id, period_start, period_end, decay_unit_days, resource_usage,
        capacity_snapshot, created_at, updated_at)
    SELECT u.uuid, pg_temp.bid('project', 1 + (i - 1) % :p), u.domain_name, sg.name, sg.id,
           current_date - 7 * w, current_date - 7 * w + 7, 7, '{"cpu": 600}', '{"cpu": 64}',
           now() - make_interval(days => 7 * w), now() - make_interval(days => 7 * w)
    FROM generate_series(1, least(CAST(:ub AS int), CAST(:u AS int))) AS i
    JOIN users u ON u.uuid = pg_temp.bid('user', i)
    JOIN scaling_groups sg ON sg.name = 'default'
    CROSS JOIN generate_series(1, 58) AS w
    """),
    (BOTH, """
    INSERT INTO usage_bucket_entries (bucket_id, bucket_type, slot_name, resource_usage,
        capacity)
    SELECT b.id, b.kind, sl.slot_name, sl.usage, sl.capacity
    FROM (SELECT id, 'domain' AS kind FROM domain_usage_buckets
          UNION ALL SELECT id, 'project' FROM project_usage_buckets
          UNION ALL SELECT id, 'user' FROM user_usage_buckets) AS b
    CROSS JOIN (VALUES ('cpu', 3600::numeric, 64::numeric),
                       ('mem', 7730941132800::numeric, 274877906944::numeric))
        AS sl (slot_name, usage, capacity)
    """),
    # RBAC rows of the cases: the purged case-vf-1 is an object of role grants and the scope of
    # a grant (26.8), or the scope of a role with its own node, a member, a permission and a
    # label (26.9); a deleted role holds an object permission (26.8) and a label (26.9)
    (R88, """
    INSERT INTO object_permissions (role_id, entity_type, entity_id, operation)
    VALUES (pg_temp.bid('role', 1), 'vfolder', pg_temp.bid('case-vf', 1)::text, 'read'),
           (pg_temp.bid('role', 2), 'vfolder', pg_temp.bid('case-vf', 1)::text, 'update'),
           (pg_temp.bid('role-old', 1), 'session', pg_temp.bid('session', 5)::text, 'read')
    """),
    (R88, """
    INSERT INTO permissions (role_id, scope_type, scope_id, entity_type, operation, permission)
    VALUES (pg_temp.bid('role', 2), 'vfolder', pg_temp.bid('case-vf', 1)::text, 'vfolder',
            'read', 1)
    """),
    (R99, """
    INSERT INTO roles (id, name, source, status, auto_assign, scope_type, scope_id, created_at,
        updated_at)
    VALUES (pg_temp.bid('case-role', 1), 'case-vf-1-editor', 'custom', 'active', false,
            'vfolder', pg_temp.bid('case-vf', 1), now() - interval '300 days',
            now() - interval '300 days')
    """),
    (R99, """
    INSERT INTO virtual_entities (entity_type, entity_id)
    VALUES ('role', pg_temp.bid('case-role', 1))
    """),
    (R99, """
    INSERT INTO entity_memberships (virtual_entity_id, member_entity_id, capped)
    SELECT id, id, false FROM virtual_entities
    WHERE entity_type = 'role' AND entity_id = pg_temp.bid('case-role', 1)
    """),
    (R99, """
    INSERT INTO scope_bindings (virtual_entity_id, scope_entity_id, permission_cap)
    SELECT n.id, n.id, CAST(NULL AS smallint) FROM virtual_entities n
    WHERE n.entity_type = 'role' AND n.entity_id = pg_temp.bid('case-role', 1)
    UNION ALL
    SELECT n.id, v.id, CAST(NULL AS smallint) FROM virtual_entities n
    JOIN virtual_entities v ON v.entity_type = 'vfolder'
                           AND v.entity_id = pg_temp.bid('case-vf', 1)
    WHERE n.entity_type = 'role' AND n.entity_id = pg_temp.bid('case-role', 1)
    """),
    (R99, """
    INSERT INTO permissions (role_id, entity_type, permission)
    VALUES (pg_temp.bid('case-role', 1), 'vfolder', 1), (pg_temp.bid('case-role', 1), 'vfolder', 2)
    """),
    (R99, """
    INSERT INTO user_roles (user_id, role_id)
    VALUES (pg_temp.bid('user', 3), pg_temp.bid('case-role', 1))
    """),
    (R99, """
    INSERT INTO entity_labels (entity_type, entity_id, key, value)
    VALUES ('vfolder', pg_temp.bid('case-vf', 1), 'tier', 'cold'),
           ('role', pg_temp.bid('case-role', 1), 'purpose', 'case'),
           ('role', pg_temp.bid('role-old', 1), 'purpose', 'retired')
    """),
    # a migrated database has these eight rows, disabled; a oneshot one has none
    (BOTH, """
    INSERT INTO retention_policies (category, retention_period, enabled)
    VALUES ('logs', interval '1 year', false), ('login', interval '1 year', false),
           ('reconcile_history', interval '1 year', false),
           ('roles_invitations', interval '1 year', false),
           ('deployments', interval '1 year', false), ('sessions', interval '1 year', false),
           ('usage_records', interval '90 days', false),
           ('usage_buckets', interval '2 years', false)
    ON CONFLICT (category) DO NOTHING
    """),
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
