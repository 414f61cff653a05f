"""The RBAC rows of 26.8's model (roles, user roles, invitations, association scopes, scoped and
object permissions, virtual scopes, memberships, scope bindings), after the vfolder references."""

from __future__ import annotations

from core.demo.backendai_seed.releases import R88, Statements

RBAC_26_8: Statements = [
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
]
