"""Vfolders in every operation status (VFOLDERS, after the parents), and the rows that name them:
model cards and the release's per-user permissions, invitations or mount policies
(VFOLDER_REFERENCES, after the deployments and the cases)."""

from __future__ import annotations

from core.demo.backendai_seed.releases import BOTH, R88, R99, Statements

VFOLDERS: Statements = [
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
]


VFOLDER_REFERENCES: Statements = [
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
]
