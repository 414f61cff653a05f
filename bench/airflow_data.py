"""An Airflow 3 metadata database with a dag_run backlog, for the bench's Airflow suite.

Airflow lives in its own venv (`bench/.airflow/venv`, gitignored; `python -m bench.airflow_suite
--install` makes it), never in the project's lock or test command. `airflow db migrate` creates
the schema in a bench database; the backlog is then written set-based in SQL (constants and bound
integers only), shaped like a busy deployment: 50 scheduled dags, `runs` dag runs over a year in
time order, per run 12 task instances (10% on a second try, with the first try in
task_instance_history; 2% rescheduled once), an XCom `return_value` per task instance and a
`metrics` XCom for 30% of them, a rendered-fields row per task instance, a note on 1% of runs.
Runs older than `CUTOFF_DAYS` are all finished (90% success); the newer ones include running
and queued runs.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from bench.cluster import BenchCluster
from bench.data import _SECONDARY_INDEXES, Template
from core.db import create_engine

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".airflow" / "venv"
HOME = ROOT / ".airflow" / "home"
AIRFLOW = VENV / "bin" / "airflow"
VERSION = "3.3.2"
CUTOFF_DAYS = 73  # 80% of a year's runs are older
TABLES = ("dag_run", "task_instance", "task_instance_history", "xcom",
          "rendered_task_instance_fields", "task_reschedule", "dag_run_note")

_SEED = [
    """INSERT INTO dag_bundle (name) VALUES ('dags-folder') ON CONFLICT DO NOTHING""",
    """
    INSERT INTO dag (dag_id, is_paused, is_stale, bundle_name, timetable_type,
                     partition_mapper_info, max_active_tasks, max_consecutive_failed_dag_runs,
                     has_task_concurrency_limits, fileloc, last_parsed_time)
    SELECT 'etl_' || lpad(d::text, 2, '0'), false, false, 'dags-folder', 'cron', '{}'::json,
           16, 0, false, '/opt/dags/etl_' || d || '.py', now()
    FROM generate_series(0, 49) AS d
    """,
    """
    INSERT INTO dag_version (id, version_number, dag_id, bundle_name, created_at, last_updated)
    SELECT md5('version-' || dag_id)::uuid, 1, dag_id, 'dags-folder', now() - interval '400 days',
           now() - interval '400 days'
    FROM dag
    """,
    # runs: g = 1 is the oldest; the newest 20% (after the cutoff) are partly still going
    """
    INSERT INTO dag_run (dag_id, run_id, run_type, run_after, logical_date, queued_at,
                         start_date, end_date, state, data_interval_start, data_interval_end,
                         created_dag_version_id, log_template_id, triggered_by, conf,
                         created_at, updated_at)
    SELECT dag_id, 'scheduled__' || replace(t::text, ' ', 'T'), 'scheduled', t, t,
           t, t + interval '5 seconds', t + interval '10 minutes',
           CASE WHEN t > now() - interval '1 day' AND g % 5 = 0 THEN 'running'
                WHEN t > now() - interval '1 day' AND g % 7 = 0 THEN 'queued'
                WHEN g % 10 = 0 THEN 'failed' ELSE 'success' END,
           t - interval '1 hour', t, md5('version-' || dag_id)::uuid, 2, 'timetable', '{}'::jsonb,
           t, t + interval '10 minutes'
    FROM (SELECT g, 'etl_' || lpad((g % 50)::text, 2, '0') AS dag_id,
                 now() - make_interval(secs => (:runs - g) * (365 * 86400.0 / :runs)) AS t
          FROM generate_series(1, :runs) AS g) AS r
    """,
    """
    INSERT INTO task_instance (id, task_id, dag_id, run_id, map_index, start_date, end_date,
                               duration, state, try_number, max_tries, hostname, unixname, pool,
                               pool_slots, queue, priority_weight, operator, queued_dttm,
                               dag_version_id, updated_at, executor_config)
    SELECT gen_random_uuid(), 'task_' || lpad(k::text, 2, '0'), r.dag_id, r.run_id, -1,
           r.start_date + k * interval '40 seconds', r.start_date + (k + 1) * interval '40 seconds',
           40.0,
           CASE WHEN r.state = 'success' THEN 'success'
                WHEN r.state = 'failed' AND k < 8 THEN 'success'
                WHEN r.state = 'failed' AND k = 8 THEN 'failed'
                WHEN r.state = 'failed' THEN 'upstream_failed'
                WHEN k < 4 THEN 'success' WHEN k = 4 THEN 'running' ELSE NULL END,
           CASE WHEN (r.id * 12 + k) % 10 = 0 THEN 2 ELSE 1 END, 1, 'worker-' || (k % 4),
           'airflow', 'default_pool', 1, 'default', 12 - k, 'PythonOperator',
           r.start_date + k * interval '40 seconds', r.created_dag_version_id,
           r.start_date + (k + 1) * interval '40 seconds', '\\x80057d942e'::bytea
    FROM dag_run r CROSS JOIN generate_series(0, 11) AS k
    """,
    """
    INSERT INTO task_instance_history (task_instance_id, task_id, dag_id, run_id, map_index,
                                       try_number, start_date, end_date, duration, state,
                                       max_tries, hostname, unixname, pool, pool_slots, queue,
                                       priority_weight, operator, dag_version_id, updated_at)
    SELECT gen_random_uuid(), task_id, dag_id, run_id, map_index, 1,
           start_date - interval '5 minutes', start_date - interval '4 minutes', 60.0, 'failed',
           max_tries, hostname, unixname, pool, pool_slots, queue, priority_weight, operator,
           dag_version_id, start_date - interval '4 minutes'
    FROM task_instance WHERE try_number = 2
    """,
    """
    INSERT INTO xcom (dag_run_id, task_id, map_index, key, dag_id, run_id, value, timestamp)
    SELECT r.id, ti.task_id, ti.map_index, 'return_value', ti.dag_id, ti.run_id,
           jsonb_build_object('rows', 1000 + length(ti.task_id), 'path',
                              's3://bucket/' || ti.run_id || '/' || ti.task_id),
           coalesce(ti.end_date, r.start_date)
    FROM task_instance ti JOIN dag_run r USING (dag_id, run_id)
    WHERE ti.state IS NOT NULL
    UNION ALL
    SELECT r.id, ti.task_id, ti.map_index, 'metrics', ti.dag_id, ti.run_id,
           jsonb_build_object('duration_s', 40, 'bytes', 123456789, 'checks',
                              jsonb_build_array('nulls', 'dupes', 'schema', 'freshness')),
           coalesce(ti.end_date, r.start_date)
    FROM task_instance ti JOIN dag_run r USING (dag_id, run_id)
    WHERE ti.state IS NOT NULL AND get_byte(uuid_send(ti.id), 14) % 10 < 3
    """,
    """
    INSERT INTO rendered_task_instance_fields (dag_id, task_id, run_id, map_index,
                                               rendered_fields)
    SELECT dag_id, task_id, run_id, map_index,
           json_build_object('op_args', json_build_array(run_id), 'op_kwargs',
                             json_build_object('ds', left(run_id, 22), 'table', 'raw.events'),
                             'templates_dict', NULL)
    FROM task_instance WHERE state IS NOT NULL
    """,
    """
    INSERT INTO task_reschedule (ti_id, start_date, end_date, duration, reschedule_date)
    SELECT id, start_date, start_date + interval '10 seconds', 10,
           start_date + interval '5 minutes'
    FROM task_instance WHERE state = 'success' AND get_byte(uuid_send(id), 15) % 50 = 0
    """,
    """
    INSERT INTO dag_run_note (dag_run_id, user_id, content, created_at, updated_at)
    SELECT id, 'admin', 'rerun after upstream outage', start_date, start_date
    FROM dag_run WHERE id % 100 = 0
    """,
]


def airflow_env(url: str) -> dict[str, str]:
    """The environment an `airflow` command needs to reach `url`'s database (psycopg2)."""
    return {**os.environ, "AIRFLOW_HOME": str(HOME),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url.replace("+asyncpg", "+psycopg2", 1),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING"}


def installed() -> bool:
    return AIRFLOW.exists()


async def airflow_template(bc: BenchCluster, name: str, runs: int) -> tuple[Template, datetime]:
    """The migrated, seeded template and the cutoff every contender uses."""
    started = time.perf_counter()
    url = bc.new_database(name)
    HOME.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(subprocess.run, [str(AIRFLOW), "db", "migrate"],
                            env=airflow_env(url), check=True, capture_output=True, text=True)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            ddl = (await conn.execute(_SECONDARY_INDEXES)).all()
            for row in ddl:
                await conn.execute(sa.text(f"DROP INDEX {row.name}"))
            for stmt in _SEED:
                await conn.execute(sa.text(stmt), {"runs": runs})
            for row in ddl:
                await conn.execute(sa.text(row.ddl))
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(sa.text("VACUUM ANALYZE"))
            counts = {t: int((await conn.execute(sa.text(
                f"SELECT count(*) FROM {t}"))).scalar_one())  # noqa: S608 - our constants
                for t in TABLES}
    finally:
        await engine.dispose()
    cutoff = datetime.now(UTC) - timedelta(days=CUTOFF_DAYS)
    return Template(name, counts, time.perf_counter() - started, bc.size(name)), cutoff
