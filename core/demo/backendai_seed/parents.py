"""The parents every seeded row needs, first: the session-local id helpers (`pg_temp.bid`,
`pg_temp.kid`), resource policies, domains, scaling groups, slot types, agents, idle checkers,
runtime variants, projects, users, their keypairs and the login client types."""

from __future__ import annotations

from core.demo.backendai_seed.releases import BOTH, R88, R99, Statements

PARENTS: Statements = [
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
]
