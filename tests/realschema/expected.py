"""What each Backend.AI pruner must delete, written independently of the declarations: plain SQL
over the seeded tables, from the platform's facts (statuses, boundary columns, guards). Each
query returns the keys of the rows a prune with `:cutoff` (timestamptz) and no limit takes; an
`UPDATED` query returns the keys of the rows whose reference it sets NULL.

The vfolder guards here match JSON by taking the folder id out of `vfid` (split_part), not by
containment as the declaration does, so the two are two ways of reading the same facts.
"""

from __future__ import annotations

_SESSIONS = """
SELECT s.id FROM sessions s
WHERE s.status IN {statuses} AND s.terminated_at < :cutoff
  AND NOT EXISTS (SELECT 1 FROM kernels k WHERE k.session_id = s.id
                  AND k.status NOT IN ('TERMINATED', 'CANCELLED', 'ERROR'))
  AND NOT EXISTS (SELECT 1 FROM routings r WHERE r.session = s.id)
"""

_BUCKETS = """
SELECT id FROM {table}
WHERE period_end < (:cutoff AT TIME ZONE current_setting('TimeZone'))::date"""

EXPECTED: dict[str, str] = {
    "sessions": _SESSIONS.format(statuses="('TERMINATED', 'CANCELLED')"),
    "sessions_errored": _SESSIONS.format(statuses="('ERROR')"),
    "vfolders": """
SELECT v.id FROM vfolders v
WHERE v.status = 'delete-complete' AND v.status_changed < :cutoff
  AND NOT EXISTS (SELECT 1 FROM model_cards c WHERE c.vfolder = v.id)
  AND NOT EXISTS (SELECT 1 FROM vfolder_attachment a JOIN kernels k ON k.id = a.kernel
                  WHERE a.vfolder = v.id AND k.status NOT IN ('TERMINATED', 'CANCELLED'))
  AND NOT EXISTS (SELECT 1 FROM deployment_revisions r JOIN endpoints e ON e.id = r.endpoint
                  WHERE e.lifecycle_stage <> 'destroyed' AND r.model = v.id)
  AND NOT EXISTS (SELECT 1 FROM deployment_revisions r JOIN endpoints e ON e.id = r.endpoint
                  WHERE e.lifecycle_stage <> 'destroyed' AND EXISTS (
        SELECT 1 FROM jsonb_array_elements(r.extra_mounts) m
        WHERE (m ->> 'vfolder_id')::uuid = v.id))
  AND NOT EXISTS (SELECT 1 FROM sessions s,
                  jsonb_array_elements(coalesce(s.vfolder_mounts, '[]')) m
                  WHERE s.status NOT IN ('TERMINATED', 'CANCELLED')
                    AND split_part(m ->> 'vfid', '/', 2)::uuid = v.id)
  AND NOT EXISTS (SELECT 1 FROM kernels k,
                  jsonb_array_elements(coalesce(k.vfolder_mounts, '[]')) m
                  WHERE k.status NOT IN ('TERMINATED', 'CANCELLED')
                    AND split_part(m ->> 'vfid', '/', 2)::uuid = v.id)
""",
    "audit_logs": "SELECT id FROM audit_logs WHERE created_at < :cutoff",
    "event_logs": "SELECT id FROM event_logs WHERE created_at < :cutoff",
    "error_logs": "SELECT id FROM error_logs WHERE created_at < :cutoff",
    "login_history": "SELECT id FROM login_history WHERE created_at < :cutoff",
    "login_sessions": """
SELECT id FROM login_sessions
WHERE status IN ('invalidated', 'revoked') AND invalidated_at < :cutoff""",
    "session_scheduling_history":
        "SELECT id FROM session_scheduling_history WHERE updated_at < :cutoff",
    "kernel_scheduling_history":
        "SELECT id FROM kernel_scheduling_history WHERE updated_at < :cutoff",
    "deployment_history": "SELECT id FROM deployment_history WHERE updated_at < :cutoff",
    "route_history": "SELECT id FROM route_history WHERE updated_at < :cutoff",
    "replica_group_history": "SELECT id FROM replica_group_history WHERE updated_at < :cutoff",
    "kernel_usage_records": "SELECT id FROM kernel_usage_records WHERE period_end < :cutoff",
    **{f"{k}_usage_buckets": _BUCKETS.replace("{table}", f"{k}_usage_buckets")
       for k in ("user", "project", "domain")},
    "routings": """
SELECT r.id FROM routings r
WHERE r.status IN ('terminated', 'failed_to_start') AND r.updated_at < :cutoff
  AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.replica_id = r.id
                  AND s.status NOT IN ('TERMINATED', 'CANCELLED', 'ERROR'))""",
    "replica_groups": """
SELECT g.id FROM replica_groups g
WHERE g.lifecycle IN ('drained', 'failed') AND g.updated_at < :cutoff
  AND NOT EXISTS (SELECT 1 FROM routings r WHERE r.replica_group_id = g.id
                  AND r.status NOT IN ('terminated', 'failed_to_start'))
  AND NOT EXISTS (SELECT 1 FROM endpoints e WHERE e.lifecycle_stage <> 'destroyed'
                  AND g.id IN (e.primary_replica_group_id, e.target_replica_group_id))""",
    "endpoints": """
SELECT e.id FROM endpoints e
WHERE e.lifecycle_stage = 'destroyed' AND e.destroyed_at < :cutoff
  AND NOT EXISTS (SELECT 1 FROM routings r WHERE r.endpoint = e.id)
  AND NOT EXISTS (SELECT 1 FROM routings r JOIN replica_groups g ON g.id = r.replica_group_id
                  WHERE g.deployment_id = e.id)""",
    "endpoint_tokens": "SELECT id FROM endpoint_tokens WHERE expires_at < :cutoff",
    "session_groups": """
SELECT g.id FROM session_groups g
WHERE g.created_at < :cutoff
  AND NOT EXISTS (SELECT 1 FROM replica_groups r WHERE r.session_group_id = g.id)
  AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.session_group_id = g.id
                  AND s.status NOT IN ('TERMINATED', 'CANCELLED', 'ERROR'))""",
    "roles": "SELECT id FROM roles WHERE status = 'deleted' AND deleted_at < :cutoff",
    "entity_shares": """
SELECT id FROM entity_shares
WHERE status IN ('canceled', 'rejected', 'revoked') AND updated_at < :cutoff""",
    "role_invitations": """
SELECT id FROM role_invitations
WHERE state IN ('rejected', 'canceled') AND updated_at < :cutoff""",
    "vfolder_invitations": """
SELECT id FROM vfolder_invitations
WHERE state IN ('rejected', 'canceled') AND modified_at < :cutoff""",
}

# (table, key column) -> the rows a prune sets NULL, given the pruned keys as :gone (uuid[])
UPDATED: dict[str, tuple[str, str]] = {
    "vfolders": ("deployment_revisions",
                 "SELECT id FROM deployment_revisions WHERE model = ANY(:gone)"),
    "routings": ("sessions", "SELECT id FROM sessions WHERE replica_id = ANY(:gone)"),
    "replica_groups": ("routings",
                       "SELECT id FROM routings WHERE replica_group_id = ANY(:gone)"),
    "session_groups": ("sessions",
                       "SELECT id FROM sessions WHERE session_group_id = ANY(:gone)"),
}

# Pruners to run first with the same cutoff (the platform's order inside a category).
BEFORE: dict[str, tuple[str, ...]] = {"endpoints": ("routings",)}

# Cutoffs (days ago) where the default would leave a small seed with nothing to prune.
CUTOFF_DAYS: dict[str, int] = {"roles": 5, "role_invitations": 15}
DEFAULT_DAYS = 60
