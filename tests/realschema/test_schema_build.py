"""Real Backend.AI schemas: built by the platform's oneshot, loaded, seeded, and checked in SQL."""

from __future__ import annotations

import fcntl
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.demo import backendai, backendai_seed
from core.demo.backendai import RELEASES, BackendAIError
from tests.realschema.helpers import SEED_SESSIONS, Seeded

pytestmark = pytest.mark.realschema

DEAD = ("TERMINATED", "CANCELLED")
HARD_DELETED = ("delete-complete", "delete-error")

SESSION_STATUSES = {
    "PENDING", "DEPRIORITIZING", "RESERVED", "SCHEDULED", "PREPARING", "PULLING", "PREPARED",
    "CREATING", "RUNNING", "RESTARTING", "RUNNING_DEGRADED", "PREEMPTED", "RESCHEDULING",
    "TERMINATING", "TERMINATED", "ERROR", "CANCELLED",
}
KERNEL_STATUSES = {
    "PENDING", "RESERVED", "SCHEDULED", "PREPARING", "BUILDING", "PULLING", "PREPARED",
    "CREATING", "RUNNING", "RESTARTING", "RESIZING", "SUSPENDED", "TERMINATING", "TERMINATED",
    "ERROR", "CANCELLED",
}
VFOLDER_STATUSES = {
    "26.8": {"ready", "performing", "cloning", "mounted", "error", "delete-pending",
             "delete-ongoing", "delete-complete", "delete-error"},
    "26.9": {"ready", "creating", "performing", "cloning", "mounted", "error", "delete-pending",
             "delete-ongoing", "delete-complete", "delete-error"},
}
ENDPOINT_STAGES = {"pending", "created", "scaling", "ready", "deploying", "destroying",
                   "destroyed"}

# Every table the brief names, per release (the seed must leave rows in each).
MUST_HAVE_ROWS = {
    "common": (
        "domains", "groups", "users", "keypairs", "scaling_groups", "agents", "sessions",
        "kernels", "session_dependencies", "routings", "endpoints", "session_idle_checks",
        "resource_allocations", "vfolder_attachment", "vfolders", "model_cards",
        "deployment_revisions", "audit_logs", "event_logs", "error_logs", "login_history",
        "login_sessions", "session_scheduling_history", "kernel_scheduling_history",
        "deployment_history", "route_history", "replica_group_history", "kernel_usage_records",
        "user_usage_buckets", "project_usage_buckets", "domain_usage_buckets",
        "usage_bucket_entries", "endpoint_tokens", "retention_policies", "roles",
        "replica_groups", "session_groups",
    ),
    "26.8": ("association_scopes_entities", "object_permissions", "vfolder_permissions",
             "vfolder_invitations", "permissions", "role_invitations"),
    "26.9": ("virtual_entities", "entity_memberships", "scope_bindings", "entity_shares",
             "entity_labels", "audit_log_scopes", "vfolder_user_mount_policies",
             "entity_membership_caps"),
}


async def scalar(seeded: Seeded, sql: str) -> object:
    async with seeded.engine.connect() as conn:
        return (await conn.execute(sa.text(sql))).scalar()


async def column(seeded: Seeded, sql: str) -> set:
    async with seeded.engine.connect() as conn:
        return set((await conn.execute(sa.text(sql))).scalars())


# ---------------------------------------------------------------------------- no database
def test_releases_are_pinned_exactly() -> None:
    assert set(RELEASES) == {"26.8", "26.9"}
    for key, version in RELEASES.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version) and version.startswith(key + ".")
    assert backendai.resolve_release("26.9") == RELEASES["26.9"]
    assert backendai.resolve_release(RELEASES["26.8"]) == RELEASES["26.8"]
    with pytest.raises(BackendAIError, match="unknown Backend.AI release"):
        backendai.resolve_release("25.1")


def test_unsafe_database_names_are_refused() -> None:
    for bad in ("x; DROP", "Upper", "a-b", "", "a" * 64, '"q"'):
        with pytest.raises(BackendAIError, match="unsafe database name"):
            backendai.check_identifier(bad)


def test_seed_statements_bind_only_our_integers() -> None:
    allowed = set(backendai_seed.Sizes.of(100).params())
    for _releases, stmt in backendai_seed._STATEMENTS:
        binds = set(sa.text(stmt).compile().params)
        assert binds <= allowed, (binds - allowed, stmt[:80])


def test_python313_lookup_names_a_bad_override(monkeypatch: pytest.MonkeyPatch) -> None:
    # a real (environment) override that is not an interpreter: the error says what to fix
    monkeypatch.setenv(backendai.PY313_ENV, sys.executable + "-missing")
    with pytest.raises(BackendAIError, match="PRUNER_PY313=.* is not a working Python >= 3.13"):
        backendai.find_python313()


def test_python313_lookup_finds_one_here() -> None:
    exe = backendai.find_python313()
    assert backendai._python_version(str(exe)) >= (3, 13)


# ---------------------------------------------------------------------------- dumps
def test_dumps_are_cached_with_their_metadata(realschema_dumps: dict) -> None:
    for key, dump in realschema_dumps.items():
        meta = backendai.cached_meta(key)
        assert meta is not None and meta["version"] == RELEASES[key]
        assert meta["builder_revision"] == backendai.BUILDER_REVISION
        assert dump.stat().st_size == meta["size"] and meta["tables"] > 90
        text = dump.read_text()
        assert "CREATE TABLE public.sessions" in text
        assert "ALTER TABLE" in text and "OWNER TO" not in text  # --no-owner
        # a second call is a cache hit (no rebuild)
        assert backendai.ensure_schema(key, progress=None) == dump


def test_a_concurrent_builder_waits_and_does_not_build_twice(
        tmp_path: Path, realschema_dumps: dict) -> None:
    # We play the first builder: hold the build lock of an empty cache, start a second caller,
    # then "finish" (the real dump and its metadata appear) and let go. The second caller must
    # have waited, and must take the finished dump instead of running its own oneshot.
    release = "26.9"
    paths = backendai.Paths(RELEASES[release], tmp_path)
    paths.cache.mkdir(parents=True)
    code = ("import sys; from pathlib import Path; from core.demo.backendai import ensure_schema;"
            " print(ensure_schema(sys.argv[1], project_dir=Path(sys.argv[2])))")
    with open(paths.lock, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        second = subprocess.Popen(
            [sys.executable, "-c", code, release, str(tmp_path)], cwd=backendai.PROJECT_DIR,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # it says it waits (however long its start-up takes on a busy box), and it does
        assert second.stderr is not None
        said: list[str] = []
        deadline = time.monotonic() + 120
        while not any("waiting for another process" in line for line in said):
            assert time.monotonic() < deadline and second.poll() is None, said
            said.append(second.stderr.readline())
        time.sleep(0.5)
        assert second.poll() is None, "the second caller did not wait for the lock"
        shutil.copyfile(realschema_dumps[release], paths.dump)
        meta = backendai.cached_meta(release)
        paths.meta.write_text(json.dumps(meta))
        fcntl.flock(fh, fcntl.LOCK_UN)
    out, err = second.communicate(timeout=120)
    err = "".join(said) + err
    assert second.returncode == 0, err
    assert "oneshot" not in err and "pip" not in err
    assert out.strip() == str(paths.dump)


async def test_load_is_the_fresh_oneshot_schema(seeded: Seeded) -> None:
    assert await scalar(seeded, "SELECT version_num FROM alembic_version") == \
        seeded.meta["alembic_head"]
    tables = await scalar(
        seeded, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
    assert tables == seeded.meta["tables"]
    async with seeded.engine.connect() as conn:
        assert await backendai_seed.detect_release(conn) == seeded.release
    print(f"\n{seeded.release}: load {seeded.load_seconds:.2f} s, "
          f"seed n={SEED_SESSIONS} {seeded.seed_seconds:.2f} s")


# ---------------------------------------------------------------------------- seeded data
async def test_every_table_a_prune_touches_has_rows(seeded: Seeded) -> None:
    wanted = MUST_HAVE_ROWS["common"] + MUST_HAVE_ROWS[seeded.release]
    async with seeded.engine.connect() as conn:
        counts = await backendai_seed.table_counts(conn, wanted)
    empty = sorted(t for t, c in counts.items() if c == 0)
    assert not empty, f"{seeded.release}: no rows in {empty}"
    assert counts["sessions"] == SEED_SESSIONS
    assert all(c > 0 for c in seeded.counts.values()), seeded.counts


async def test_every_status_is_present(seeded: Seeded) -> None:
    assert await column(seeded, "SELECT status FROM sessions") == SESSION_STATUSES
    assert await column(seeded, "SELECT status FROM kernels") == KERNEL_STATUSES
    assert await column(seeded, "SELECT status FROM vfolders") == \
        VFOLDER_STATUSES[seeded.release]
    assert await column(seeded, "SELECT lifecycle_stage FROM endpoints") == ENDPOINT_STAGES
    assert {"running", "terminated", "failed_to_start"} <= await column(
        seeded, "SELECT status FROM routings")
    assert await column(seeded, "SELECT status FROM login_sessions") == {
        "active", "invalidated", "revoked"}
    assert "deleted" in await column(seeded, "SELECT status FROM roles")
    if seeded.release == "26.9":
        assert await column(seeded, "SELECT status FROM entity_shares") == {
            "pending", "accepted", "rejected", "canceled", "revoked"}


async def test_ages_spread_over_more_than_a_year(seeded: Seeded) -> None:
    for sql in (
        "SELECT max(terminated_at) - min(terminated_at) FROM sessions",
        "SELECT max(status_changed) - min(status_changed) FROM vfolders",
        "SELECT max(created_at) - min(created_at) FROM audit_logs",
    ):
        span = await scalar(seeded, sql)
        assert span.days > 300, (sql, span)
    assert await scalar(seeded, "SELECT count(*) FROM sessions WHERE status IN "
                                "('TERMINATED', 'CANCELLED') AND terminated_at IS NULL") > 0
    assert await scalar(seeded, "SELECT count(*) FROM vfolders "
                                "WHERE status_changed IS NULL") > 0


async def test_the_cases_a_prune_must_refuse_are_there(seeded: Seeded) -> None:
    checks = {
        "live -> dead dependency edge": """
            SELECT count(*) FROM session_dependencies d
            JOIN sessions a ON a.id = d.session_id JOIN sessions b ON b.id = d.depends_on
            WHERE a.status NOT IN ('TERMINATED', 'CANCELLED', 'ERROR')
              AND b.status IN ('TERMINATED', 'CANCELLED', 'ERROR')""",
        "terminal routing of a dead session (RESTRICT)": """
            SELECT count(*) FROM routings r JOIN sessions s ON s.id = r.session
            WHERE r.status IN ('terminated', 'failed_to_start')
              AND s.status IN ('TERMINATED', 'CANCELLED')""",
        "live routing": "SELECT count(*) FROM routings WHERE status = 'running'",
        "live kernel of a dead session": """
            SELECT count(*) FROM kernels k JOIN sessions s ON s.id = k.session_id
            WHERE s.status IN ('TERMINATED', 'CANCELLED')
              AND k.status NOT IN ('TERMINATED', 'CANCELLED', 'ERROR')""",
        "live session mounting a hard-deleted vfolder (JSON)": """
            SELECT count(*) FROM sessions s
            CROSS JOIN LATERAL jsonb_array_elements(s.vfolder_mounts) e
            JOIN vfolders v ON v.id = split_part(e ->> 'vfid', '/', 2)::uuid
            WHERE s.status NOT IN ('TERMINATED', 'CANCELLED')
              AND v.status IN ('delete-complete', 'delete-error')""",
        "live kernel mounting a hard-deleted vfolder (JSON)": """
            SELECT count(*) FROM kernels k
            CROSS JOIN LATERAL jsonb_array_elements(k.vfolder_mounts) e
            JOIN vfolders v ON v.id = split_part(e ->> 'vfid', '/', 2)::uuid
            WHERE k.status NOT IN ('TERMINATED', 'CANCELLED')
              AND v.status IN ('delete-complete', 'delete-error')""",
        "live kernel attached to a hard-deleted vfolder": """
            SELECT count(*) FROM vfolder_attachment a JOIN kernels k ON k.id = a.kernel
            JOIN vfolders v ON v.id = a.vfolder
            WHERE k.status NOT IN ('TERMINATED', 'CANCELLED')
              AND v.status IN ('delete-complete', 'delete-error')""",
        "dead kernel attached to a vfolder": """
            SELECT count(*) FROM vfolder_attachment a JOIN kernels k ON k.id = a.kernel
            WHERE k.status IN ('TERMINATED', 'CANCELLED')""",
        "live endpoint's revision modelled on a hard-deleted vfolder": """
            SELECT count(*) FROM deployment_revisions r JOIN endpoints e ON e.id = r.endpoint
            JOIN vfolders v ON v.id = r.model
            WHERE e.lifecycle_stage IN ('pending', 'created', 'scaling', 'ready', 'deploying')
              AND v.status IN ('delete-complete', 'delete-error')""",
        "destroyed endpoint's revision": """
            SELECT count(*) FROM deployment_revisions r JOIN endpoints e ON e.id = r.endpoint
            WHERE e.lifecycle_stage = 'destroyed'""",
        "live endpoint's extra_mounts naming a hard-deleted vfolder": """
            SELECT count(*) FROM deployment_revisions r JOIN endpoints e ON e.id = r.endpoint
            CROSS JOIN LATERAL jsonb_array_elements(r.extra_mounts) m
            JOIN vfolders v ON v.id = (m ->> 'vfolder_id')::uuid
            WHERE e.lifecycle_stage IN ('pending', 'created', 'scaling', 'ready', 'deploying')
              AND v.status IN ('delete-complete', 'delete-error')""",
        "model card on a hard-deleted vfolder (RESTRICT)": """
            SELECT count(*) FROM model_cards c JOIN vfolders v ON v.id = c.vfolder
            WHERE v.status IN ('delete-complete', 'delete-error')""",
        "hard-deleted vfolder nothing references": """
            SELECT count(*) FROM vfolders v
            WHERE v.status IN ('delete-complete', 'delete-error')
              AND NOT EXISTS (SELECT 1 FROM model_cards c WHERE c.vfolder = v.id)""",
        "expired endpoint token": """
            SELECT count(*) FROM endpoint_tokens WHERE expires_at < now()""",
        "deleted role with deleted_at": """
            SELECT count(*) FROM roles WHERE status = 'deleted' AND deleted_at IS NOT NULL""",
        "closed login session": """
            SELECT count(*) FROM login_sessions
            WHERE status IN ('invalidated', 'revoked') AND invalidated_at IS NOT NULL""",
        "unreferenced session group": """
            SELECT count(*) FROM session_groups g
            WHERE NOT EXISTS (SELECT 1 FROM replica_groups r WHERE r.session_group_id = g.id)""",
        "terminal replica group": """
            SELECT count(*) FROM replica_groups WHERE lifecycle IN ('drained', 'failed')""",
    }
    missing = [name for name, sql in checks.items() if not await scalar(seeded, sql)]
    assert not missing, f"{seeded.release}: no rows for {missing}"


async def test_rbac_rows_of_the_release(seeded: Seeded) -> None:
    if seeded.release == "26.8":
        checks = {
            "session as entity (user and project)": """
                SELECT count(*) FROM association_scopes_entities a JOIN sessions s
                  ON a.entity_type = 'session' AND a.entity_id = s.id::text""",
            "session as scope of its kernels": """
                SELECT count(*) FROM association_scopes_entities a JOIN kernels k
                  ON a.scope_type = 'session' AND a.scope_id = k.session_id::text
                 AND a.entity_type = 'kernel' AND a.entity_id = k.id::text""",
            "vfolder ref edge of a shared user": """
                SELECT count(*) FROM association_scopes_entities
                WHERE entity_type = 'vfolder' AND relation_type = 'ref'""",
            "permission scoped to a vfolder": """
                SELECT count(*) FROM permissions WHERE scope_type = 'vfolder'""",
            "object permission on a session": """
                SELECT count(*) FROM object_permissions WHERE entity_type = 'session'""",
        }
        # two rows per session (user, project) and one per kernel
        per_session = await scalar(seeded, """
            SELECT min(c) FROM (SELECT s.id, count(a.id) AS c FROM sessions s
              LEFT JOIN association_scopes_entities a
                ON a.entity_type = 'session' AND a.entity_id = s.id::text GROUP BY s.id) x""")
        assert per_session == 2
    else:
        checks = {
            "session node with self edges": """
                SELECT count(*) FROM virtual_entities n
                JOIN entity_memberships m ON m.virtual_entity_id = n.id
                 AND m.member_entity_id = n.id
                JOIN scope_bindings b ON b.virtual_entity_id = n.id AND b.scope_entity_id = n.id
                WHERE n.entity_type = 'session'""",
            "session governed by its user and project": """
                SELECT count(*) FROM scope_bindings b
                JOIN virtual_entities n ON n.id = b.virtual_entity_id
                JOIN virtual_entities s ON s.id = b.scope_entity_id
                WHERE n.entity_type = 'session' AND s.entity_type IN ('user', 'project')""",
            "idle checker governed by a session": """
                SELECT count(*) FROM scope_bindings b
                JOIN virtual_entities n ON n.id = b.virtual_entity_id
                JOIN virtual_entities s ON s.id = b.scope_entity_id
                WHERE n.entity_type = 'idle_checker' AND s.entity_type = 'session'""",
            "role scoped to a session": "SELECT count(*) FROM roles WHERE scope_type = 'session'",
            "share of a vfolder": """
                SELECT count(*) FROM entity_shares WHERE target_entity_type = 'vfolder'""",
            "label on a session": """
                SELECT count(*) FROM entity_labels WHERE entity_type = 'session'""",
            "audit log scope": "SELECT count(*) FROM audit_log_scopes",
        }
        missing_nodes = await scalar(seeded, """
            SELECT count(*) FROM sessions s WHERE NOT EXISTS (SELECT 1 FROM virtual_entities n
              WHERE n.entity_type = 'session' AND n.entity_id = s.id)""")
        assert missing_nodes == 0
    missing = [name for name, sql in checks.items() if not await scalar(seeded, sql)]
    assert not missing, f"{seeded.release}: no rows for {missing}"


# Every foreign key of the schema, checked row by row: no referencing row without its parent.
# The identifiers come from the catalog and are quoted by PostgreSQL (format %I).
_FK_ORPHANS = """
DO $$
DECLARE fk record; orphans bigint; bad text := '';
BEGIN
  FOR fk IN
    SELECT c.conname, c.conrelid::regclass AS child, c.confrelid::regclass AS parent,
           (SELECT string_agg(format('ch.%I', a.attname), ', ' ORDER BY k.ord)
              FROM unnest(c.conkey) WITH ORDINALITY k(att, ord)
              JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.att) AS ccols,
           (SELECT string_agg(format('pa.%I', a.attname), ', ' ORDER BY k.ord)
              FROM unnest(c.confkey) WITH ORDINALITY k(att, ord)
              JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.att) AS pcols,
           (SELECT string_agg(format('ch.%I IS NOT NULL', a.attname), ' AND ')
              FROM unnest(c.conkey) k(att)
              JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.att) AS notnull
    FROM pg_constraint c
    WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
  LOOP
    EXECUTE format('SELECT count(*) FROM %s ch WHERE %s AND NOT EXISTS '
                   '(SELECT 1 FROM %s pa WHERE (%s) = (%s))',
                   fk.child, fk.notnull, fk.parent, fk.ccols, fk.pcols) INTO orphans;
    IF orphans > 0 THEN bad := bad || fk.conname || '=' || orphans || ' '; END IF;
  END LOOP;
  IF bad <> '' THEN RAISE EXCEPTION 'orphans: %', bad; END IF;
END $$
"""


async def test_foreign_keys_hold(seeded: Seeded) -> None:
    async with seeded.engine.begin() as conn:
        await conn.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))
        await conn.execute(sa.text(_FK_ORPHANS))
        fks = (await conn.execute(sa.text(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
            "AND connamespace = 'public'::regnamespace"))).scalar()
    assert fks > 90


async def test_a_second_seed_or_the_wrong_release_is_refused(seeded: Seeded) -> None:
    with pytest.raises(BackendAIError, match="already seeded"):
        await backendai_seed.seed_backendai(seeded.engine, seeded.release, sessions=40)
    other = "26.8" if seeded.release == "26.9" else "26.9"
    with pytest.raises(BackendAIError, match=f"asked to seed a {other} schema"):
        await backendai_seed.seed_backendai(seeded.engine, other, sessions=40)
