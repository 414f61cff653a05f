"""Issue 9, item 7: the console's demo is the real Backend.AI 26.9 manager schema, built (from
the cached dump here) and seeded on first use and reused afterwards; on it a sessions prune shows
per-table counts that include the tables that go by the database's own cascades."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from console import launcher
from console.settings import DATABASE_URL_ENV, DEMO_ENV, DEMO_FALLBACK_ENV
from console.state import Keys
from core.demo.cluster import LocalCluster
from core.demo.seed import DEMO_DIR_ENV
from tests.clusters import temp_cluster
from tests.console.test_apptest import (
    button,
    confirm,
    console,
    dialog_open,
    frame,
    metric,
    no_exceptions,
    texts,
)

pytestmark = [pytest.mark.realschema, pytest.mark.timeout(600)]

SESSIONS = 300
REAL = "pruner_demo_26_9"
OID = "SELECT oid FROM pg_database WHERE datname = 'pruner_demo_26_9'"


@pytest.fixture(scope="module")
def demo_cluster() -> Iterator[LocalCluster]:
    """A cluster of its own, as the launcher's .pruner/demo-pg would be."""
    with temp_cluster("pruner-real-demo-") as cluster:
        yield cluster


@pytest.fixture(scope="module")
def prepared(demo_cluster: LocalCluster) -> tuple[dict[str, str], list[str]]:
    """The launcher's demo preparation, first start: its environment and what it printed."""
    lines: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(DEMO_DIR_ENV, str(demo_cluster.datadir))  # demo-url beside this cluster
        env = launcher.demo_environment(demo_cluster, SESSIONS, progress=lines.append)
    return env, lines


def table_counts(at: Any) -> dict[str, int]:
    """The rows-per-table table on the page (the dialog's, or the outcome's once it ran)."""
    shown = frame(at, ["table", "rows"])
    return {str(t): int(n) for t, n in zip(shown["table"], shown["rows"], strict=True)}


def one(cluster: LocalCluster, sql: str) -> str:
    return cluster.psql(sql, REAL)


def test_first_start_builds_and_seeds_the_real_schema(
        prepared: tuple[dict[str, str], list[str]], demo_cluster: LocalCluster) -> None:
    env, lines = prepared
    assert make_url(env[DATABASE_URL_ENV]).database == REAL
    assert env[DEMO_ENV] == "1" and DEMO_FALLBACK_ENV not in env, lines
    said = "\n".join(lines)
    assert ("loading the Backend.AI 26.9.6 schema" in said
            or "building the Backend.AI 26.9 schema (first use, a few minutes)…" in said)
    assert f"seeding {SESSIONS:,} sessions" in said
    assert f"seeded {SESSIONS:,} demo sessions on the real Backend.AI 26.9 schema" in said
    # the platform's own 26.9 schema (the graph RBAC, no modelled marker), seeded, journaled
    assert one(demo_cluster, "SELECT to_regclass('virtual_entities') IS NOT NULL AND "
                             "to_regclass('entity_labels') IS NOT NULL AND "
                             "to_regclass('association_scopes_entities') IS NULL") == "t"
    assert one(demo_cluster, "SELECT count(*) FROM information_schema.columns WHERE "
                             "table_name = 'audit_logs' AND column_name = 'actor'") == "0"
    assert one(demo_cluster, "SELECT version_num FROM alembic_version") != ""
    assert one(demo_cluster, "SELECT count(*) FROM sessions") == str(SESSIONS)
    assert one(demo_cluster, "SELECT min(n) > 0 FROM (SELECT count(*) FROM kernels "
                             "UNION ALL SELECT count(*) FROM session_idle_checks "
                             "UNION ALL SELECT count(*) FROM resource_allocations "
                             "UNION ALL SELECT count(*) FROM vfolder_attachment "
                             "UNION ALL SELECT count(*) FROM virtual_entities "
                             "UNION ALL SELECT count(*) FROM audit_log_scopes) AS c(n)") == "t"
    assert one(demo_cluster, "SELECT count(*) FROM retention_policies") == "8"
    assert one(demo_cluster, "SELECT to_regclass('pruner.prune_runs') IS NOT NULL") == "t"
    url_file = demo_cluster.datadir.parent / "demo-url"
    assert url_file.read_text().strip() == env[DATABASE_URL_ENV]


def test_a_second_start_reuses_it_without_building_or_seeding(
        prepared: tuple[dict[str, str], list[str]], demo_cluster: LocalCluster,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env, _ = prepared
    oid = demo_cluster.psql(OID)
    one(demo_cluster, "UPDATE sessions SET name = 'touched' "
                      "WHERE id = (SELECT id FROM sessions ORDER BY id LIMIT 1)")
    monkeypatch.setenv(DEMO_DIR_ENV, str(demo_cluster.datadir))
    monkeypatch.setenv("PRUNER_PY313", "/nonexistent/python3.13")  # a build would fail
    lines: list[str] = []
    # a project without the cached dump: anything but a reuse would need a build and fall back
    again = launcher.demo_environment(demo_cluster, SESSIONS, project_root=tmp_path,
                                      progress=lines.append)
    assert again == env, lines
    said = "\n".join(lines)
    assert f"reusing the demo database {REAL} (the real Backend.AI 26.9 schema" in said
    assert not any(w in said for w in ("building", "loading", "seeding", "seeded")), said
    assert demo_cluster.psql(OID) == oid
    assert one(demo_cluster, "SELECT count(*) FROM sessions WHERE name = 'touched'") == "1", \
        "the data is the first start's, not a new seed"


def test_the_console_on_the_real_demo(prepared: tuple[dict[str, str], list[str]],
                                      console_env: Any) -> None:
    """The pages work on 26.9: the picker offers its entities only, the platform's retention
    policies are shown, and a sessions prune's per-table counts include the cascaded tables."""
    env, _ = prepared
    for key, value in env.items():
        console_env.setenv(key, value)
    at = console()
    no_exceptions(at)
    assert not at.warning or not any("modelled schema" in w.value for w in at.warning)
    options = list(at.selectbox(key=Keys.ENTITY).options)
    assert {"sessions", "sessions_errored", "entity_shares", "endpoints"} <= set(options)
    assert not {"role_invitations", "vfolder_invitations"} & set(options), "26.8 only"
    assert "Platform's own sweep of **sessions**" in texts(at)

    at.segmented_control(key=Keys.CUTOFF_MODE).set_value("By age").run()
    at.number_input(key=Keys.CUTOFF_DAYS).set_value(30).run()
    assert int(metric(at, "Candidates").replace(",", "")) >= 5
    at.number_input(key=Keys.LIMIT).set_value(5).run()
    button(at, "Prune 5 oldest").click().run()
    assert dialog_open(at), texts(at)
    asked = table_counts(at)  # what the dialog says it deletes, per table
    confirm(at, reason="real demo check")
    no_exceptions(at)
    outcome = at.session_state[Keys.OUTCOME]
    deleted = outcome.result.deleted
    assert outcome.result.count == 5 and deleted["sessions"] == 5
    # declared (kernels), and gone by the database's own ON DELETE CASCADE (counted anyway)
    assert deleted.get("kernels", 0) > 0
    cascaded = {"session_idle_checks", "resource_allocations", "vfolder_attachment",
                "virtual_entities", "entity_memberships"}
    assert cascaded & {t for t, n in deleted.items() if n}, deleted
    assert table_counts(at) == deleted, "the page shows every table's count"
    assert asked == deleted, "the dialog's per-table counts were the prune's"

    at.switch_page("views/database.py").run()
    no_exceptions(at)
    policies = [d.value for d in at.dataframe if "pruners covering it" in d.value.columns]
    assert policies, "the platform's sweep is shown on the Database page"
    sweep = policies[0]
    assert len(sweep) == 8 and "sessions" in set(sweep["category"])
    row = sweep[sweep["category"] == "sessions"].iloc[0]
    assert "sessions" in row["pruners covering it"] and "sessions_errored" in \
        row["pruners covering it"]
