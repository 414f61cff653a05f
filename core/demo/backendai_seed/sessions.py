"""Sessions in every status with their vfolder mounts, their kernels (resource allocations,
vfolder attachments), dependency edges and idle checks (after the parents and the vfolders)."""

from __future__ import annotations

from core.demo.backendai_seed.releases import BOTH, R88, R99, Statements

# the sessions' row source (both releases; only the column lists differ)
_SESSION_ROWS = """
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
"""

# the kernels of each seeded session (both releases; only the slot columns differ)
_KERNEL_KEYS = """
    SELECT pg_temp.kid(se.id, k), se.id, se.creation_id, se.name, se.session_type,
           se.cluster_mode, se.cluster_size, CASE WHEN k = 1 THEN 'main' ELSE 'sub' END, k - 1,
           k - 1, CASE WHEN k = 1 THEN 'main1' ELSE 'sub' || (k - 1) END, se.scaling_group_name,
           se.resource_group_id, 'i-agent-' || (1 + (s.g + k) % 6),
           '10.0.0.' || (1 + (s.g + k) % 6) || ':' || '6001', se.domain_name, se.group_id,
           se.user_uuid, se.access_key, se.images[1], 'x86_64', 'cr.backend.ai',
"""
_KERNEL_ROWS = """
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
"""

SESSIONS: Statements = [
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
    """ + _SESSION_ROWS),
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
    """ + _SESSION_ROWS),
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
    """ + _KERNEL_KEYS + """\
           '{}', '{"cpu": "1", "mem": "2147483648"}', '{}', 2000, 2001, 2002, 2003, false,
           se.vfolder_mounts, ks.status,
           coalesce(ks.terminated_at, se.created_at + interval '5 seconds'),
           CASE ks.status WHEN 'TERMINATED' THEN 'SUCCESS' WHEN 'ERROR' THEN 'FAILURE'
                          WHEN 'CANCELLED' THEN 'FAILURE' ELSE 'UNDEFINED' END,
           se.created_at, ks.terminated_at
    """ + _KERNEL_ROWS),
    (R99, """
    INSERT INTO kernels (id, session_id, session_creation_id, session_name, session_type,
        cluster_mode, cluster_size, cluster_role, cluster_idx, local_rank, cluster_hostname,
        scaling_group, resource_group_id, agent, agent_addr, domain_name, group_id, user_uuid,
        access_key, image, architecture, registry, occupied_shares, repl_in_port,
        repl_out_port, stdin_port, stdout_port, use_host_network, vfolder_mounts, status,
        status_changed, result, created_at, terminated_at)
    """ + _KERNEL_KEYS + """\
           '{}', 2000, 2001, 2002, 2003, false, se.vfolder_mounts, ks.status,
           coalesce(ks.terminated_at, se.created_at + interval '5 seconds'),
           CASE ks.status WHEN 'TERMINATED' THEN 'SUCCESS' WHEN 'ERROR' THEN 'FAILURE'
                          WHEN 'CANCELLED' THEN 'FAILURE' ELSE 'UNDEFINED' END,
           se.created_at, ks.terminated_at
    """ + _KERNEL_ROWS),
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
]
