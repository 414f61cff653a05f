"""Deployments (after the sessions): endpoints in every lifecycle stage, session and replica
groups, revisions, routings live and terminal, endpoint tokens."""

from __future__ import annotations

from core.demo.backendai_seed.releases import BOTH, Statements

DEPLOYMENTS: Statements = [
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
]
