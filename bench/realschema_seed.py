"""Bulk data for the real-schema benchmark (Backend.AI manager 26.9), at bench scale.

`core.demo.backendai_seed` is the correctness seeder (every status, every guard, small). This one
fills, fast and at hundreds of thousands of sessions, what a `sessions` or `audit_logs` prune of
26.9 touches, in the shapes the platform writes them:

* parents: one domain, `p` projects, `u` users (each with a user-scoped role), 3 resource groups,
  4 agents, 2 idle checkers, `v` vfolders, 20 endpoints;
* `n` sessions over 400 days, written in creation order (ids are time-ordered like the
  platform's uuid v7, `terminated_at` a few hours to 3 days after `created_at`): the newest 2%
  and every 100th older one live (RUNNING), ~3% ERROR, ~1/7 CANCELLED, the rest TERMINATED;
* per session 1 kernel (2 for every 5th, a cluster), 2–3 resource_allocations per kernel, a
  vfolder_attachment for every 4th session's main kernel, an idle check for every 2nd, a
  dependency edge for every 20th (and live sessions on old ones);
* blocked dead sessions: every 100th has a kernel still RUNNING, every 100th another a routing
  (the RESTRICT foreign key); live sessions have routings too;
* RBAC, 26.9 graph: a `virtual_entities` node per session, user, project, idle checker, role and
  share; memberships and scope bindings the way the platform links them (self, created-in:
  user → session and project → session, the idle checker's capped relation, a share's landing
  membership), caps and cap fields; every 50th session has a role scoped to it (3 permissions,
  a field on some, 1–2 user_roles), every 40th is shared with another project (accepted, some
  revoked), every 5th has a label, as do some roles and shares;
* `n` audit_logs in time order with 2 audit_log_scopes each.

Everything is INSERT … SELECT over generate_series inside PostgreSQL, in one transaction, with
fixed SQL text: the only values bound are integers (sizes). Every foreign key is checked as the
rows go in (no trigger is disabled). Secondary indexes of the filled tables are dropped during
the load and rebuilt after (the same definitions, one sort each), then VACUUM ANALYZE.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass(frozen=True)
class Scale:
    n: int  # sessions (and audit logs)
    u: int  # users
    p: int  # projects
    v: int  # vfolders

    @classmethod
    def of(cls, sessions: int) -> Scale:
        return cls(n=sessions, u=max(200, sessions // 25), p=50, v=max(100, sessions // 50))

    def params(self) -> dict[str, int]:
        return {"n": self.n, "u": self.u, "p": self.p, "v": self.v}


FILLED = ("domains", "groups", "users", "scaling_groups", "agents", "idle_checkers",
          "resource_slot_types", "vfolders", "endpoints", "sessions", "kernels",
          "resource_allocations", "vfolder_attachment", "session_dependencies",
          "session_idle_checks", "routings", "virtual_entities", "entity_memberships",
          "entity_membership_caps", "entity_membership_fields", "scope_bindings", "roles",
          "permissions", "permission_fields", "user_roles", "entity_shares", "entity_labels",
          "audit_logs", "audit_log_scopes")

_HELPERS = [
    # an id derived from an ordinal: children find their parents without a lookup
    """CREATE FUNCTION pg_temp.bid(kind text, i bigint) RETURNS uuid
       LANGUAGE sql IMMUTABLE AS $$ SELECT md5(kind || ':' || i)::uuid $$""",
    # the same, with the first 48 bits the creation time in ms, as the platform's uuid v7
    """CREATE FUNCTION pg_temp.tid(ts timestamptz, kind text, i bigint) RETURNS uuid
       LANGUAGE sql IMMUTABLE AS $$
       SELECT encode(overlay(decode(md5(kind || ':' || i), 'hex')
                     PLACING substring(int8send(floor(extract(epoch FROM ts) * 1000)::bigint)
                                       FROM 3) FROM 1 FOR 6), 'hex')::uuid $$""",
    """CREATE FUNCTION pg_temp.tidk(ts timestamptz, k text) RETURNS uuid
       LANGUAGE sql IMMUTABLE AS $$
       SELECT encode(overlay(decode(md5(k), 'hex')
                     PLACING substring(int8send(floor(extract(epoch FROM ts) * 1000)::bigint)
                                       FROM 3) FROM 1 FOR 6), 'hex')::uuid $$""",
]

_STATEMENTS = [
    # ------------------------------------------------------------------ parents
    """INSERT INTO keypair_resource_policies (name, default_for_unspecified, total_resource_slots,
           max_concurrent_sessions, max_containers_per_session, idle_timeout,
           allowed_vfolder_hosts)
       VALUES ('bench', 'UNLIMITED', '{}', 30, 1, 3600, '{}')""",
    """INSERT INTO user_resource_policies (name, max_vfolder_count, max_quota_scope_size,
           max_session_count_per_model_session, max_customized_image_count)
       VALUES ('bench', 0, -1, 10, 3)""",
    """INSERT INTO project_resource_policies (name, max_vfolder_count, max_quota_scope_size,
           max_network_count)
       VALUES ('bench', 0, -1, 3)""",
    """INSERT INTO domains (id, name, is_active, is_default, total_resource_slots,
           allowed_vfolder_hosts, allowed_docker_registries, dotfiles)
       VALUES (pg_temp.bid('domain', 1), 'default', true, true, '{}', '{}',
               ARRAY['cr.backend.ai'], ''::bytea)""",
    """INSERT INTO scaling_groups (id, name, is_active, driver, driver_opts, scheduler,
           use_host_network, scheduler_opts, default_deployment_options,
           default_session_options)
       SELECT pg_temp.bid('rg', r), 'rg-' || r, true, 'static', '{}', 'fifo', false, '{}',
              '{}', '{}'
       FROM generate_series(1, 3) AS r""",
    """INSERT INTO agents (id, status, region, scaling_group, resource_group_id, addr, version,
           architecture, compute_plugins)
       SELECT 'i-agent-' || a, 'ALIVE', 'local', 'rg-' || (1 + a % 3),
              pg_temp.bid('rg', 1 + a % 3), 'tcp://10.0.0.' || a || ':' || '6001', '26.9.6',
              'x86_64', '{}'
       FROM generate_series(1, 4) AS a""",
    """INSERT INTO resource_slot_types (slot_name, slot_type)
       VALUES ('cpu', 'count'), ('mem', 'bytes'), ('cuda.device', 'count')
       ON CONFLICT DO NOTHING""",
    """INSERT INTO idle_checkers (id, name, target_session_types, spec)
       SELECT pg_temp.bid('idle', c), 'checker-' || c, ARRAY['INTERACTIVE', 'BATCH'],
              jsonb_build_object('type', (ARRAY['network_timeout', 'utilization'])[c])
       FROM generate_series(1, 2) AS c""",
    """INSERT INTO users (uuid, username, email, status, domain_name, domain_id, role,
           resource_policy, sudo_session_enabled, created_at)
       SELECT pg_temp.bid('user', i), 'user-' || i, 'user-' || i || '@bench.invalid', 'active',
              'default', pg_temp.bid('domain', 1), 'user', 'bench', false,
              now() - interval '800 days'
       FROM generate_series(1, :u) AS i""",
    """INSERT INTO groups (id, name, is_active, domain_name, total_resource_slots,
           allowed_vfolder_hosts, dotfiles, resource_policy, type, created_at)
       SELECT pg_temp.bid('project', p), 'project-' || p, true, 'default', '{}', '{}',
              ''::bytea, 'bench', 'general', now() - interval '800 days'
       FROM generate_series(1, :p) AS p""",
    """INSERT INTO vfolders (id, host, domain_name, quota_scope_id, name, usage_mode,
           default_mount_permission, ownership_type, "user", cloneable, status, created_at)
       SELECT pg_temp.bid('vfolder', f), 'local:volume1', 'default',
              'user:' || pg_temp.bid('user', 1 + f % :u), 'folder-' || f, 'general', 'rw',
              'user', pg_temp.bid('user', 1 + f % :u), false, 'ready',
              now() - interval '700 days'
       FROM generate_series(1, :v) AS f""",
    """INSERT INTO endpoints (id, name, created_user, session_owner, desired_replicas, domain,
           project, resource_group, lifecycle_stage, options)
       SELECT pg_temp.bid('endpoint', e), 'endpoint-' || e, pg_temp.bid('user', e),
              pg_temp.bid('user', e), 1, 'default', pg_temp.bid('project', 1 + e % :p), 'rg-1',
              'created', '{}'
       FROM generate_series(1, 20) AS e""",
    # ------------------------------------------------------------------ sessions
    # One row per session with everything its children derive from. g = 1 is the oldest.
    """CREATE TEMP TABLE _s ON COMMIT DROP AS
       SELECT g, born, pg_temp.tid(born, 'session', g) AS id, 1 + g % :u AS ui,
              1 + g % :p AS pi, 1 + g % 3 AS ri, CASE WHEN g % 5 = 0 THEN 2 ELSE 1 END AS nk,
              st AS status,
              CASE WHEN st = 'RUNNING' THEN NULL
                   ELSE born + make_interval(mins => 30 + (g * 7919) % 4320) END AS ended
       FROM generate_series(1, :n) AS g
       CROSS JOIN LATERAL (SELECT now() - make_interval(secs => (:n - g + 1)
                                                          * (400 * 86400.0 / :n)) AS born) b
       CROSS JOIN LATERAL (SELECT CASE WHEN g > :n - :n / 50 OR g % 100 = 50 THEN 'RUNNING'
                                       WHEN g % 33 = 0 THEN 'ERROR'
                                       WHEN g % 7 = 0 THEN 'CANCELLED'
                                       ELSE 'TERMINATED' END AS st) s""",
    """INSERT INTO sessions (id, creation_id, name, session_type, priority, cluster_mode,
           cluster_size, options, resource_group_id, scaling_group_name, domain_name, domain_id,
           group_id, user_uuid, images, use_host_network, starts_at, terminated_at, status,
           result, created_at)
       SELECT id, 'c' || g, 'session-' || g, CASE WHEN g % 3 = 0 THEN 'BATCH'
                                                  ELSE 'INTERACTIVE' END, 10,
              CASE WHEN nk = 1 THEN 'SINGLE_NODE' ELSE 'MULTI_NODE' END, nk, '{}',
              pg_temp.bid('rg', ri), 'rg-' || ri, 'default', pg_temp.bid('domain', 1),
              pg_temp.bid('project', pi), pg_temp.bid('user', ui),
              ARRAY['cr.backend.ai/stable/python:3.13'], false, born + interval '20 seconds',
              ended, status, CASE WHEN status = 'TERMINATED' THEN 'SUCCESS'
                                  WHEN status = 'RUNNING' THEN 'UNDEFINED'
                                  ELSE 'FAILURE' END, born
       FROM _s ORDER BY g""",
    """CREATE TEMP TABLE _k ON COMMIT DROP AS
       SELECT s.*, k, pg_temp.tid(s.born, 'kernel' || k, s.g) AS kid,
              CASE WHEN s.status = 'RUNNING' THEN 'RUNNING'
                   WHEN k = 1 AND s.g % 100 = 37 THEN 'RUNNING'   -- blocks its dead session
                   WHEN k = 1 AND s.g % 50 = 3 THEN 'ERROR'       -- dead: goes with it
                   ELSE s.status END AS kstatus
       FROM _s s CROSS JOIN LATERAL generate_series(1, s.nk) AS k""",
    """INSERT INTO kernels (id, session_id, session_creation_id, session_name, cluster_size,
           cluster_role, cluster_idx, local_rank, cluster_hostname, scaling_group,
           resource_group_id, agent, domain_name, group_id, user_uuid, occupied_shares,
           repl_in_port, repl_out_port, stdin_port, stdout_port, use_host_network, starts_at,
           terminated_at, status, status_changed, created_at)
       SELECT kid, id, 'c' || g, 'session-' || g, nk, CASE WHEN k = 1 THEN 'main' ELSE 'sub' END,
              k, k - 1, CASE WHEN k = 1 THEN 'main1' ELSE 'sub' || (k - 1) END, 'rg-' || ri,
              pg_temp.bid('rg', ri), 'i-agent-' || (1 + g % 4), 'default',
              pg_temp.bid('project', pi), pg_temp.bid('user', ui), '{}', 2000, 2001, 2002, 2003,
              false, born + interval '20 seconds',
              CASE WHEN kstatus = 'RUNNING' THEN NULL ELSE ended END, kstatus,
              coalesce(ended, born), born
       FROM _k ORDER BY g, k""",
    """INSERT INTO resource_allocations (id, kernel_id, slot_name, requested, reserved, used,
           reserved_at, free_at, created_at)
       SELECT pg_temp.tid(born, 'ra-' || slot || k, g), kid, slot, amount, amount, amount,
              born, CASE WHEN kstatus = 'RUNNING' THEN NULL ELSE ended END, born
       FROM _k CROSS JOIN LATERAL (VALUES ('cpu', 2.0), ('mem', 8589934592.0),
                                          ('cuda.device', 1.0)) AS r (slot, amount)
       WHERE slot <> 'cuda.device' OR g % 4 = 0
       ORDER BY g, k""",
    """INSERT INTO vfolder_attachment (vfolder, kernel)
       SELECT pg_temp.bid('vfolder', 1 + g % :v), kid FROM _k WHERE k = 1 AND g % 4 = 1
       ORDER BY g""",
    """INSERT INTO session_dependencies (id, session_id, depends_on)
       SELECT pg_temp.tid(s.born, 'dep', s.g), s.id, o.id
       FROM _s s JOIN _s o ON o.g = s.g - 3 WHERE s.g % 20 = 0
       UNION ALL  -- live sessions that depend on old ones (the edge goes with the old one)
       SELECT pg_temp.tid(s.born, 'dep-live', s.g), s.id, o.id
       FROM _s s JOIN _s o ON o.g = s.g / 2
       WHERE s.status = 'RUNNING' AND s.g % 10 = 1 AND o.status <> 'RUNNING'""",
    """INSERT INTO session_idle_checks (session_id, idle_checker_id, expire_at, last_status,
           last_message, updated_at)
       SELECT id, pg_temp.bid('idle', 1 + (g / 2) % 2), born + interval '1 hour', 'ok', '',
              coalesce(ended, born)
       FROM _s WHERE g % 2 = 1 ORDER BY g""",
    """INSERT INTO routings (id, endpoint, session, session_owner, domain, project, status,
           traffic_ratio, revision, created_at, updated_at)
       SELECT pg_temp.tid(born, 'routing', g), pg_temp.bid('endpoint', 1 + g % 20), id,
              pg_temp.bid('user', ui), 'default', pg_temp.bid('project', pi),
              CASE WHEN status = 'RUNNING' THEN 'healthy' ELSE 'failed_to_start' END, 1.0,
              pg_temp.bid('revision', 1 + g % 20), born, coalesce(ended, born)
       FROM _s
       WHERE (status = 'RUNNING' AND g % 5 = 0)
          OR (status IN ('TERMINATED', 'CANCELLED') AND g % 100 = 71)
       ORDER BY g""",
    # ------------------------------------------------------------------ RBAC (26.9 graph)
    """INSERT INTO roles (id, name, source, status, scope_type, scope_id, created_at, updated_at)
       SELECT pg_temp.bid('role-u', i), 'user-role-' || i, 'system', 'active', 'user',
              pg_temp.bid('user', i), now() - interval '800 days', now() - interval '800 days'
       FROM generate_series(1, :u) AS i
       UNION ALL
       SELECT pg_temp.tid(born, 'role-s', g), 'session-viewer-' || g, 'custom', 'active',
              'session', id, born, born
       FROM _s WHERE g % 50 = 15""",
    """INSERT INTO permissions (id, role_id, entity_type, permission, all_fields, created_at)
       SELECT pg_temp.bid('perm-u', i * 10 + j), pg_temp.bid('role-u', i), et, 1, true,
              now() - interval '800 days'
       FROM generate_series(1, :u) AS i
       CROSS JOIN LATERAL (VALUES (1, 'session'), (2, 'vfolder'), (3, 'deployment')) AS e (j, et)
       UNION ALL
       SELECT pg_temp.tid(born, 'perm-s' || j, g), pg_temp.tid(born, 'role-s', g), et, 1,
              NOT (j = 1 AND g % 100 = 15), born
       FROM _s CROSS JOIN LATERAL (VALUES (1, 'session'), (2, 'kernel'),
                                          (3, 'vfolder')) AS e (j, et)
       WHERE g % 50 = 15""",
    """INSERT INTO permission_fields (permission_id, path)
       SELECT pg_temp.tid(born, 'perm-s1', g), f
       FROM _s CROSS JOIN (VALUES ('name'), ('status')) AS x (f) WHERE g % 100 = 15""",
    """INSERT INTO user_roles (id, user_id, role_id, granted_at)
       SELECT pg_temp.bid('ur-u', i), pg_temp.bid('user', i), pg_temp.bid('role-u', i),
              now() - interval '800 days'
       FROM generate_series(1, :u) AS i
       UNION ALL
       SELECT pg_temp.tid(born, 'ur-s' || x, g), pg_temp.bid('user', 1 + (ui + x) % :u),
              pg_temp.tid(born, 'role-s', g), born
       FROM _s CROSS JOIN generate_series(0, 1) AS x
       WHERE g % 50 = 15 AND (x = 0 OR g % 100 = 15)""",
    # the nodes; a share names its target and recipient nodes, so shares come after
    """CREATE TEMP TABLE _n ON COMMIT DROP AS
       SELECT 'domain'::text AS et, pg_temp.bid('domain', 1) AS eid,
              now() - interval '800 days' AS at, 0 AS g
       UNION ALL SELECT 'project', pg_temp.bid('project', p), now() - interval '800 days', 0
       FROM generate_series(1, :p) AS p
       UNION ALL SELECT 'user', pg_temp.bid('user', i), now() - interval '800 days', 0
       FROM generate_series(1, :u) AS i
       UNION ALL SELECT 'idle_checker', pg_temp.bid('idle', c), now() - interval '800 days', 0
       FROM generate_series(1, 2) AS c
       UNION ALL SELECT 'role', pg_temp.bid('role-u', i), now() - interval '800 days', 0
       FROM generate_series(1, :u) AS i
       UNION ALL SELECT 'session', id, born, g FROM _s
       UNION ALL SELECT 'role', pg_temp.tid(born, 'role-s', g), born, g
       FROM _s WHERE g % 50 = 15
       UNION ALL SELECT 'entity_share', pg_temp.tid(born, 'share', g), born, g
       FROM _s WHERE g % 40 = 1""",
    """CREATE TEMP TABLE _nid ON COMMIT DROP AS
       SELECT et, eid, at, g, pg_temp.tidk(at, 'node:' || et || ':' || eid) AS nid
       FROM _n""",
    """CREATE UNIQUE INDEX ON _nid (et, eid)""",
    """ANALYZE _nid""",
    """INSERT INTO virtual_entities (id, entity_type, entity_id, created_at)
       SELECT nid, et, eid, at FROM _nid ORDER BY at, g""",
    """INSERT INTO entity_shares (id, sharer_user_id, recipient_entity_type, recipient_entity_id,
           target_entity_type, target_entity_id, permission_cap, status, created_at,
           updated_at)
       SELECT pg_temp.tid(born, 'share', g), pg_temp.bid('user', ui), 'project',
              pg_temp.bid('project', 1 + pi % :p), 'session', id, 1,
              CASE WHEN g % 80 = 41 THEN 'revoked' ELSE 'accepted' END, born, born
       FROM _s WHERE g % 40 = 1""",
    # (holder, member, capped, cap: all_fields) edges, then memberships, caps and fields
    """CREATE TEMP TABLE _m ON COMMIT DROP AS
       SELECT nid AS holder, nid AS member, false AS capped, true AS all_fields, at, g
       FROM _nid WHERE et NOT IN ('domain')
       UNION ALL  -- created in: the user and the project own the session
       SELECT u.nid, n.nid, false, true, n.at, n.g FROM _s s
       JOIN _nid n ON n.et = 'session' AND n.eid = s.id
       JOIN _nid u ON u.et = 'user' AND u.eid = pg_temp.bid('user', s.ui)
       UNION ALL
       SELECT p.nid, n.nid, false, true, n.at, n.g FROM _s s
       JOIN _nid n ON n.et = 'session' AND n.eid = s.id
       JOIN _nid p ON p.et = 'project' AND p.eid = pg_temp.bid('project', s.pi)
       UNION ALL  -- a role and a share belong to their scope / target
       SELECT sn.nid, rn.nid, false, true, rn.at, rn.g FROM _s s
       JOIN _nid sn ON sn.et = 'session' AND sn.eid = s.id
       JOIN _nid rn ON rn.et = 'role' AND rn.eid = pg_temp.tid(s.born, 'role-s', s.g)
       WHERE s.g % 50 = 15
       UNION ALL
       SELECT sn.nid, hn.nid, false, true, hn.at, hn.g FROM _s s
       JOIN _nid sn ON sn.et = 'session' AND sn.eid = s.id
       JOIN _nid hn ON hn.et = 'entity_share' AND hn.eid = pg_temp.tid(s.born, 'share', s.g)
       WHERE s.g % 40 = 1
       UNION ALL  -- the idle checker holds a capped (READ) membership of the session
       SELECT c.nid, n.nid, true, true, n.at, n.g FROM _s s
       JOIN _nid n ON n.et = 'session' AND n.eid = s.id
       JOIN _nid c ON c.et = 'idle_checker' AND c.eid = pg_temp.bid('idle', 1 + (s.g / 2) % 2)
       WHERE s.g % 2 = 1
       UNION ALL  -- an accepted share lands in the recipient project, capped to READ fields
       SELECT p.nid, n.nid, true, false, n.at, n.g FROM _s s
       JOIN _nid n ON n.et = 'session' AND n.eid = s.id
       JOIN _nid p ON p.et = 'project' AND p.eid = pg_temp.bid('project', 1 + s.pi % :p)
       WHERE s.g % 40 = 1 AND s.g % 80 <> 41""",
    """INSERT INTO entity_memberships (id, virtual_entity_id, member_entity_id, capped,
           created_at)
       SELECT pg_temp.tidk(at, 'm:' || holder || ':' || member), holder, member, capped, at
       FROM _m ORDER BY at, g""",
    """INSERT INTO entity_membership_caps (id, membership_id, permission, all_fields)
       SELECT pg_temp.tidk(at, 'cap:' || holder || ':' || member),
              pg_temp.tidk(at, 'm:' || holder || ':' || member), 1, all_fields
       FROM _m WHERE capped ORDER BY at, g""",
    """INSERT INTO entity_membership_fields (cap_id, path)
       SELECT pg_temp.tidk(at, 'cap:' || holder || ':' || member), f
       FROM _m CROSS JOIN (VALUES ('name'), ('status'), ('created_at')) AS x (f)
       WHERE capped AND NOT all_fields""",
    # (node, scope, cap) bindings: self, created-in, the checker's relation
    """INSERT INTO scope_bindings (virtual_entity_id, scope_entity_id, permission_cap,
           created_at)
       SELECT nid, nid, NULL::smallint, at FROM _nid WHERE et NOT IN ('domain')
       UNION ALL
       SELECT n.nid, u.nid, NULL, n.at FROM _s s
       JOIN _nid n ON n.et = 'session' AND n.eid = s.id
       JOIN _nid u ON u.et = 'user' AND u.eid = pg_temp.bid('user', s.ui)
       UNION ALL
       SELECT n.nid, p.nid, NULL, n.at FROM _s s
       JOIN _nid n ON n.et = 'session' AND n.eid = s.id
       JOIN _nid p ON p.et = 'project' AND p.eid = pg_temp.bid('project', s.pi)
       UNION ALL
       SELECT rn.nid, sn.nid, NULL, rn.at FROM _s s
       JOIN _nid sn ON sn.et = 'session' AND sn.eid = s.id
       JOIN _nid rn ON rn.et = 'role' AND rn.eid = pg_temp.tid(s.born, 'role-s', s.g)
       WHERE s.g % 50 = 15
       UNION ALL
       SELECT hn.nid, sn.nid, NULL, hn.at FROM _s s
       JOIN _nid sn ON sn.et = 'session' AND sn.eid = s.id
       JOIN _nid hn ON hn.et = 'entity_share' AND hn.eid = pg_temp.tid(s.born, 'share', s.g)
       WHERE s.g % 40 = 1
       UNION ALL
       SELECT c.nid, n.nid, 1, n.at FROM _s s
       JOIN _nid n ON n.et = 'session' AND n.eid = s.id
       JOIN _nid c ON c.et = 'idle_checker' AND c.eid = pg_temp.bid('idle', 1 + (s.g / 2) % 2)
       WHERE s.g % 2 = 1""",
    """INSERT INTO entity_labels (id, entity_type, entity_id, key, value, created_at,
           updated_at)
       SELECT pg_temp.tid(born, 'label-s', g), 'session', id, 'team',
              (ARRAY['ml', 'infra', 'edu'])[1 + g % 3], born, born
       FROM _s WHERE g % 5 = 0
       UNION ALL
       SELECT pg_temp.tid(born, 'label-r', g), 'role', pg_temp.tid(born, 'role-s', g),
              'purpose', 'audit', born, born
       FROM _s WHERE g % 100 = 15
       UNION ALL
       SELECT pg_temp.tid(born, 'label-h', g), 'entity_share', pg_temp.tid(born, 'share', g),
              'ticket', 'T-' || g, born, born
       FROM _s WHERE g % 80 = 1""",
    # ------------------------------------------------------------------ audit logs
    """INSERT INTO audit_logs (id, action_kind, entity_type, operation, action_name, entity_id,
           created_at, action_id, request_id, triggered_by, description, status)
       SELECT pg_temp.tid(at, 'audit', g), 'mutation', 'session',
              (ARRAY['create', 'destroy', 'modify', 'share'])[1 + g % 4],
              'session.' || (ARRAY['create', 'destroy', 'modify', 'share'])[1 + g % 4],
              'session-' || g, at, pg_temp.bid('action', g), 'req-' || g,
              'user-' || (1 + g % :u), 'bench', 'success'
       FROM generate_series(1, :n) AS g
       CROSS JOIN LATERAL (SELECT now() - make_interval(secs => (:n - g + 1)
                                                          * (400 * 86400.0 / :n)) AS at) t
       ORDER BY g""",
    """INSERT INTO audit_log_scopes (id, audit_log_id, scope_type, scope_id)
       SELECT pg_temp.tid(at, 'scope' || x, g), pg_temp.tid(at, 'audit', g),
              (ARRAY['user', 'project'])[x],
              CASE WHEN x = 1 THEN 'user-' || (1 + g % :u) ELSE 'project-' || (1 + g % :p) END
       FROM generate_series(1, :n) AS g
       CROSS JOIN LATERAL (SELECT now() - make_interval(secs => (:n - g + 1)
                                                          * (400 * 86400.0 / :n)) AS at) t
       CROSS JOIN generate_series(1, 2) AS x
       ORDER BY g, x""",
]

# Secondary indexes (those not behind a constraint) of the tables we fill: dropped for the load.
_SECONDARY = sa.text("""
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS ddl
FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace ns ON ns.oid = t.relnamespace
WHERE ns.nspname = 'public' AND t.relname = ANY(CAST(:tables AS text[]))
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
ORDER BY 1
""")

_COUNT = sa.text("""
SELECT t.relname AS name,
       (xpath('/row/c/text()',
              query_to_xml(format('SELECT count(*) AS c FROM %I', t.relname), false, true,
                           '')))[1]::text::bigint AS rows
FROM pg_class t JOIN pg_namespace ns ON ns.oid = t.relnamespace
WHERE ns.nspname = 'public' AND t.relkind = 'r' AND t.relname = ANY(CAST(:tables AS text[]))
""")


async def seed(engine: AsyncEngine, scale: Scale) -> dict[str, int]:
    """Fill a freshly loaded 26.9 schema; returns the row count of every filled table."""
    params = scale.params()
    async with engine.begin() as conn:
        indexes = (await conn.execute(_SECONDARY, {"tables": list(FILLED)})).all()
        for ix in indexes:
            await conn.execute(sa.text(f"DROP INDEX {ix.name}"))  # names from the catalog
        for sql in _HELPERS:
            await conn.execute(sa.text(sql))
        for sql in _STATEMENTS:
            used = {k: v for k, v in params.items() if f":{k}" in sql}
            await conn.execute(sa.text(sql), used)
        # the deferred foreign key (roles -> their scope's node) is checked here, before the
        # indexes are rebuilt (an index cannot be built with trigger events pending)
        await conn.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))
        for ix in indexes:
            await conn.execute(sa.text(ix.ddl))
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(sa.text("VACUUM ANALYZE"))
        rows = (await conn.execute(_COUNT, {"tables": list(FILLED)})).all()
    return {r.name: int(r.rows) for r in sorted(rows, key=lambda r: r.name) if r.rows}
