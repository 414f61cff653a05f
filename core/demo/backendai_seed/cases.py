"""The cases the pack guards, made by copying existing rows (CASES, after the deployments): purged
vfolders still referenced, destroyed endpoints with and without live references, session groups
no replica group uses, every endpoint's auto-scaling policy; and the cases' RBAC rows (CASE_RBAC,
after the usage buckets)."""

from __future__ import annotations

from core.demo.backendai_seed.releases import BOTH, R88, R99, Statements

CASES: Statements = [
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
]


CASE_RBAC: Statements = [
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
]
