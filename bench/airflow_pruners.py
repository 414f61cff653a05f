"""Pruners for the Airflow 3 metadata tables that `airflow db clean --tables dag_run` clears.

A user module, loaded with `PRUNER_MODULES=bench.airflow_pruners` (the bench's Airflow suite
does this). `db clean --tables dag_run` cleans dag_run and, through its `dependent_tables`,
task_instance, task_instance_history, xcom, task_state_store and deadline, each by its own age
column (airflow/utils/db_cleanup.py, `config_list`). One pruner per table, each bounded by the
same column Airflow uses. Only the columns a declaration names are declared: the plans read the
rest — every ON DELETE CASCADE table under dag_run and task_instance (rendered fields, task
maps, reschedules, notes, HITL details, asset events …) — from the live catalog.

Terminal states: a dag run that succeeded or failed; a task instance in a finished state.
Airflow's own clean goes by age alone; on the bench's backlog every old row is finished, so
both delete the same rows (the bench checks that every table ends with the same row count).
Airflow's `keep_last` (the newest non-manual run of each dag is kept) is not declared: every
seeded dag has runs after the cutoff, so it keeps nothing old there.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from core import Pruner, register
from core.repository.pruner import SetNull

metadata = sa.MetaData()
_TS = sa.DateTime(timezone=True)

dag_run = sa.Table(
    "dag_run", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dag_id", sa.String(250), nullable=False),
    sa.Column("run_id", sa.String(250), nullable=False),
    sa.Column("state", sa.String(50)),
    sa.Column("start_date", _TS),
)
backfill_dag_run = sa.Table(
    "backfill_dag_run", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dag_run_id", sa.Integer),
)
task_instance = sa.Table(
    "task_instance", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("dag_id", sa.String(250), nullable=False),
    sa.Column("task_id", sa.String(250), nullable=False),
    sa.Column("run_id", sa.String(250), nullable=False),
    sa.Column("map_index", sa.Integer, nullable=False),
    sa.Column("state", sa.String(20)),
    sa.Column("start_date", _TS),
)
task_instance_history = sa.Table(
    "task_instance_history", metadata,
    sa.Column("task_instance_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("start_date", _TS),
)
xcom = sa.Table(
    "xcom", metadata,
    sa.Column("dag_run_id", sa.Integer, primary_key=True),
    sa.Column("task_id", sa.String(250), primary_key=True),
    sa.Column("map_index", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(512), primary_key=True),
    sa.Column("timestamp", _TS, nullable=False),
)
task_state_store = sa.Table(
    "task_state_store", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("expires_at", _TS),
)
deadline = sa.Table(
    "deadline", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("deadline_time", _TS, nullable=False),
)

TI_FINISHED = ("success", "failed", "skipped", "upstream_failed", "removed")

PRUNERS = [
    Pruner(name="airflow_dag_run", table=dag_run, timestamp="start_date",
           terminal=dag_run.c.state.in_(("success", "failed")),
           # a backfill's row loses its run, as Airflow's clean lets ON DELETE SET NULL do
           set_null=(SetNull(backfill_dag_run, on="dag_run_id"),),
           description="Finished dag runs and everything under them"),
    Pruner(name="airflow_task_instance", table=task_instance, timestamp="start_date",
           terminal=task_instance.c.state.in_(TI_FINISHED),
           description="Finished task instances (and their xcom, rendered fields, …)"),
    Pruner(name="airflow_task_instance_history", table=task_instance_history,
           timestamp="start_date", terminal=sa.true(), description="Past task tries"),
    Pruner(name="airflow_xcom", table=xcom, timestamp="timestamp", terminal=sa.true(),
           description="XCom values"),
    Pruner(name="airflow_task_state_store", table=task_state_store, timestamp="expires_at",
           terminal=sa.true(), description="Expired task state"),
    Pruner(name="airflow_deadline", table=deadline, timestamp="deadline_time",
           terminal=sa.true(), description="Past deadlines"),
]
NAMES = [p.name for p in PRUNERS]

for _p in PRUNERS:
    register(_p)
