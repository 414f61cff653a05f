"""Creator, Updater and Purger on the real server: one row by key, in its own transaction or the
caller's, with typed errors."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from core import Creator, Purger, Updater, errors, execute_creator, execute_purger, execute_updater
from core.reference_schema import kernels, model_cards, sessions, vfolders
from tests.factories import PROJECT, USER, count


async def test_create_update_purge_one_session(db):
    row = await execute_creator(db, Creator(sessions, {"user_uuid": USER, "group_id": PROJECT,
                                                       "name": "one"}))
    assert row.status == "PENDING" and row.name == "one"  # server defaults come back
    updated = await execute_updater(db, Updater(sessions, row.id, {"status": "TERMINATED"}))
    assert updated is not None and updated.status == "TERMINATED" and updated.id == row.id
    gone = await execute_purger(db, Purger(sessions, row.id))
    assert gone is not None and gone.id == row.id
    assert await count(db, sessions) == 0


async def test_creator_returns_only_the_columns_asked_for(db):
    row = await execute_creator(db, Creator(sessions, {"user_uuid": USER, "group_id": PROJECT},
                                            returning=("id",)))
    assert list(row._mapping) == ["id"]


async def test_missing_rows_are_none_not_errors(db):
    missing = uuid.uuid4()
    assert await execute_updater(db, Updater(sessions, missing, {"status": "ERROR"})) is None
    assert await execute_purger(db, Purger(sessions, missing)) is None


async def test_bad_values_are_refused_before_anything_runs(db):
    with pytest.raises(errors.InvalidArgument, match="no column"):
        await execute_creator(db, Creator(sessions, {"nope": 1}))
    with pytest.raises(errors.InvalidArgument, match="at least one value"):
        await execute_updater(db, Updater(sessions, uuid.uuid4(), {}))
    with pytest.raises(errors.DefinitionError, match="single-column primary key"):
        await execute_purger(db, Purger(sa.Table("t", sa.MetaData(), sa.Column("a", sa.Integer)),
                                        1))


async def test_database_refusals_are_typed_and_change_nothing(db):
    vf = await execute_creator(db, Creator(vfolders, {"name": "v", "status": "ready"}))
    await execute_creator(db, Creator(model_cards, {"name": "c", "vfolder": vf.id}))
    with pytest.raises(errors.IntegrityFailure, match="deleting a row of vfolders"):
        await execute_purger(db, Purger(vfolders, vf.id))  # a model card still uses it
    with pytest.raises(errors.IntegrityFailure, match="ck_sessions_status"):
        await execute_creator(db, Creator(sessions, {"user_uuid": USER, "group_id": PROJECT,
                                                     "status": "BOGUS"}))
    assert await count(db, vfolders) == 1 and await count(db, sessions) == 0


async def test_in_a_callers_transaction_a_failure_leaves_it_usable(db):
    async with db.connect() as conn:
        await conn.begin()
        row = await execute_creator(conn, Creator(sessions, {"user_uuid": USER,
                                                             "group_id": PROJECT}))
        with pytest.raises(errors.IntegrityFailure):  # kernels need an existing session
            await execute_creator(conn, Creator(kernels, {"session_id": uuid.uuid4()}))
        await execute_creator(conn, Creator(kernels, {"session_id": row.id}))
        await conn.commit()
    assert await count(db, sessions) == 1 and await count(db, kernels) == 1
