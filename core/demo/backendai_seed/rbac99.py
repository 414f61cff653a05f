"""The RBAC rows of 26.9's graph model (virtual entities, memberships, scope bindings, shares,
roles, permissions, labels), after 26.8's."""

from __future__ import annotations

from core.demo.backendai_seed.releases import R99, Statements

RBAC_26_9: Statements = [
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
]
