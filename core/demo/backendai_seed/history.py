"""The append-only logs, the FK-less scheduling and deployment histories, usage records and
usage buckets (HISTORY, after the RBAC rows); and the retention policies a migrated database
has (RETENTION, last)."""

from __future__ import annotations

from core.demo.backendai_seed.releases import BOTH, R88, R99, Statements

HISTORY: Statements = [
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
]


RETENTION: Statements = [
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
