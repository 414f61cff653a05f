"""Preview, rehearsal, journaled prune, selected ids, archive, drain and CSV export."""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from console.charts import counts_frame, histogram_frame
from core import errors, export, journal, operations, registry, sweep
from core.drain import drain
from core.preview import bin_width, preview
from core.reference_schema import kernels, sessions
from tests.factories import add_dependency, add_logs, add_session, add_vfolder, count, snapshot

SESSIONS = registry.get("sessions")
LOGS = registry.get("audit_logs")
VFOLDERS = registry.get("vfolders")


def now() -> datetime:
    return datetime.now(UTC)


async def runs(db) -> list[journal.Run]:
    return await journal.history(db, limit=100)


# ------------------------------------------------------------------------------ preview
async def test_preview_counts_match_what_the_prune_then_deletes(db):
    ids = [await add_session(db, age_days=10 + i) for i in range(12)]
    await add_dependency(db, ids[0], ids[5])
    await add_session(db, age_days=5, routed=True)
    await add_session(db, age_days=6, kernel_status="RUNNING")
    await add_session(db, status="RUNNING", age_days=None)
    await add_session(db, age_days=None)
    cutoff = now()
    pv = await preview(db, sweep(SESSIONS, before=cutoff, limit=7), sample_size=3)
    assert pv.candidates == 12 and pv.blocked == 2 and pv.would_delete == 7
    assert pv.blocked_by == {"still has a routing (ON DELETE RESTRICT)": 1,
                             "has a kernel that is not terminated": 1}
    assert sum(b.count for b in pv.histogram) == 12
    assert [r["id"] for r in pv.sample] == ids[::-1][:3]  # oldest first
    assert pv.oldest < pv.newest
    result = await operations.prune(db, sweep(SESSIONS, before=cutoff, limit=7), operator="t")
    assert result.deleted == pv.cascade


async def test_preview_takes_no_locks_and_changes_nothing(db):
    await add_session(db, age_days=10)
    before = await snapshot(db)
    async with db.connect() as holder:
        await holder.begin()
        await holder.execute(sa.select(sessions).with_for_update())
        pv = await preview(db, sweep(SESSIONS, before=now(), limit=10))
        assert pv.candidates == 1  # a locked row is still a candidate: the preview only reads
        await holder.rollback()
    assert await snapshot(db) == before


async def test_preview_of_nothing(db):
    pv = await preview(db, sweep(LOGS, before=now(), limit=10))
    assert (pv.candidates, pv.oldest, pv.histogram, pv.cascade) == (0, None, [], {"audit_logs": 0})
    assert pv.to_dict()["histogram"] == []


def test_bin_width_is_round_and_bounded():
    t = now()
    assert bin_width(t, t) == timedelta(minutes=1)
    assert bin_width(t - timedelta(days=365), t) == timedelta(days=7)
    assert bin_width(t - timedelta(days=20 * 365), t) == timedelta(days=365)
    assert bin_width(t - timedelta(days=200 * 365), t) >= timedelta(days=365)


async def test_preview_frames_and_chart(db):
    await add_logs(db, [1, 2, 30, 300])
    pv = await preview(db, sweep(LOGS, before=now(), limit=2))
    frame = histogram_frame(pv)
    assert frame["count"].sum() == 4 and (frame["age_days_to"] >= frame["age_days_from"]).all()
    assert len(pv.sample) == 4 and counts_frame(pv.cascade)["rows"].tolist() == [2]
    from console.charts import age_histogram

    spec = age_histogram(pv).to_dict()
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["bar", "rule", "text"]
    assert "tooltip" in spec["layer"][0]["encoding"]


# ------------------------------------------------------------------------------ journal
async def test_a_prune_is_journaled_with_its_ids_in_the_same_transaction(db):
    a = await add_session(db, age_days=20)
    b = await add_session(db, age_days=10)
    r = await operations.prune(db, sweep(SESSIONS, before=now(), limit=5),
                               operator="alice", reason="ticket 42")
    assert r.ids == [a, b] and r.run_id is not None
    (run,) = await runs(db)
    assert (run.id, run.status, run.kind, run.operator, run.reason, run.count) == (
        r.run_id, "succeeded", "prune", "alice", "ticket 42", 2)
    assert run.deleted == r.deleted
    assert await journal.run_ids(db, run.id) == [str(a), str(b)]


async def test_a_rolled_back_prune_leaves_no_success_and_records_the_failure(db):
    await add_session(db, age_days=20)
    before = await snapshot(db)
    async with db.begin() as conn:
        await conn.execute(sa.text(
            "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS "
            "$$BEGIN RAISE EXCEPTION 'disk on fire'; END$$"))
        await conn.execute(sa.text(
            "CREATE TRIGGER boom BEFORE INSERT ON pruner.prune_run_ids "
            "FOR EACH ROW EXECUTE FUNCTION boom()"))
    try:
        with pytest.raises(errors.PruneFailed, match="disk on fire"):
            await operations.prune(db, sweep(SESSIONS, before=now(), limit=5), operator="bob")
    finally:
        async with db.begin() as conn:
            await conn.execute(sa.text("DROP FUNCTION boom() CASCADE"))
    assert await snapshot(db) == before  # journal failure rolled the deletes back too
    (run,) = await runs(db)
    assert run.status == "failed" and "disk on fire" in run.error and run.count == 0
    assert await journal.run_ids(db, run.id) == []


async def test_bad_input_is_not_journaled(db):
    await add_session(db, age_days=20)
    with pytest.raises(errors.InvalidArgument):
        await operations.prune(db, sweep(SESSIONS, before=now(), limit=0), operator="x")
    with pytest.raises(errors.InvalidArgument, match="operator"):
        await operations.prune(db, sweep(SESSIONS, before=now(), limit=1), operator=" ")
    assert await runs(db) == []


async def test_rehearsal_counts_exactly_and_changes_nothing_but_the_journal(db):
    for age in (10, 20, 30):
        await add_session(db, age_days=age)
    before = await snapshot(db)
    r = await operations.rehearse(db, sweep(SESSIONS, before=now(), limit=2), operator="carol")
    assert r.dry_run and r.count == 2 and r.deleted["association_scopes_entities"] == 8
    assert await snapshot(db) == before
    (run,) = await runs(db)
    assert (run.kind, run.status, run.count) == ("rehearsal", "rehearsed", 2)


async def test_selected_ids_prune_reports_skipped(db):
    ok = await add_session(db, age_days=30)
    live = await add_session(db, status="RUNNING", age_days=None)
    r = await operations.prune(db, sweep(SESSIONS, before=now(), ids=[str(ok), str(live)]),
                               operator="dave")
    assert r.ids == [ok] and r.skipped == [live]
    (run,) = await runs(db)
    assert run.kind == "selected" and run.count == 1


async def test_archive_keeps_full_rows_and_exports_them(db):
    vid = await add_vfolder(db, age_days=40)
    r = await operations.prune(db, sweep(VFOLDERS, before=now(), limit=10),
                               archive=True, operator="e")
    rows = await journal.archived_rows(db, r.run_id)
    # every deleted row of every table, with all its columns
    assert sorted((a.table, a.kind) for a in rows) == [
        ("association_scopes_entities", "deleted"), ("vfolder_permissions", "deleted"),
        ("vfolders", "deleted")]
    (folder,) = [a.row for a in rows if a.table == "vfolders"]
    assert (folder["id"], folder["name"], folder["status"]) == (
        str(vid), f"vf-{vid.hex[:6]}", "delete-complete")
    buf = io.StringIO()
    assert await export.export_archive(db, r.run_id, buf) == 3
    lines = list(csv.DictReader(io.StringIO(buf.getvalue())))
    (line,) = [x for x in lines if x["table"] == "vfolders"]
    assert str(vid) in line["row"] and '"status": "delete-complete"' in line["row"]


async def test_csv_of_a_result_and_of_a_journaled_run_agree(db):
    ids = [await add_session(db, age_days=10 + i) for i in range(3)]
    r = await operations.prune(db, sweep(SESSIONS, before=now(), limit=10), operator="f")
    from_result = list(csv.DictReader(io.StringIO(export.result_csv(r))))
    buf = io.StringIO()
    assert await export.export_run(db, r.run_id, buf) == 3
    from_journal = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert [row["id"] for row in from_result] == [row["id"] for row in from_journal] == [
        str(i) for i in ids[::-1]]
    assert set(from_journal[0]) == {"run_id", "entity", "id", "pruned_at"}
    with pytest.raises(errors.InvalidArgument, match="no run 999"):
        await export.export_run(db, 999, io.StringIO())


# ------------------------------------------------------------------------------ drain
async def test_drain_in_batches_with_progress_and_a_frozen_cutoff(db):
    await add_logs(db, [10 + i for i in range(25)])
    seen = []
    r = await drain(db, sweep(LOGS, before=now(), limit=10), operator="g", progress=seen.append)
    assert (r.count, r.batches, r.stopped) == (25, 3, "done")
    assert [(p.done, p.estimated_total) for p in seen] == [(10, 25), (20, 25), (25, 25)]
    assert len(r.ids) == 25 and len(r.run_ids) == 3
    assert {run.drain_id for run in await runs(db)} == {r.drain_id}
    assert await count(db, LOGS.table) == 0


async def test_drain_stops_while_rows_keep_aging_in(db):
    await add_logs(db, [10 + i for i in range(12)])
    cutoff = now() - timedelta(days=1)

    async def age_in(progress):  # after every batch, rows cross "older than 1 day" behind us
        async with db.begin() as conn:
            await conn.execute(sa.insert(LOGS.table), [
                dict(created_at=cutoff + timedelta(microseconds=1), actor="x", action="y")] * 5)

    r = await drain(db, sweep(LOGS, before=cutoff, limit=5),
                    operator="h", progress=age_in, max_batches=50)
    assert (r.count, r.batches, r.stopped) == (12, 3, "done")  # a moving cutoff never ends
    assert await count(db, LOGS.table) == 15


async def test_drain_bounds_and_cancellation(db):
    await add_logs(db, [10 + i for i in range(30)])
    r = await drain(db, sweep(LOGS, before=now(), limit=5), max_batches=2, operator="i")
    assert (r.count, r.stopped) == (10, "max_batches")
    stop = threading.Event()
    r = await drain(db, sweep(LOGS, before=now(), limit=5),
                    operator="i", progress=lambda p: stop.set(), cancel=stop)
    assert (r.count, r.batches, r.stopped) == (5, 1, "stopped")
    assert await count(db, LOGS.table) == 15


async def test_a_large_drain_spills_ids_to_a_csv_file(db, tmp_path):
    await add_logs(db, [10 + i for i in range(12)])
    out = tmp_path / "ids.csv"
    r = await drain(db, sweep(LOGS, before=now(), limit=5), operator="j", keep_ids_in_memory=7)
    assert r.ids is None and r.ids_file is not None
    rows = list(csv.DictReader(r.ids_file.open()))
    assert len(rows) == 12 and len({row["id"] for row in rows}) == 12
    r.ids_file.unlink()
    await add_logs(db, [10, 11])
    r = await drain(db, sweep(LOGS, before=now(), limit=5), operator="j", ids_file=out)
    assert r.ids is None and r.ids_file == out and len(list(csv.DictReader(out.open()))) == 2


async def test_rows_that_keep_failing_are_parked_and_the_drain_goes_on(db):
    ids = {age: await add_session(db, age_days=age) for age in range(10, 22)}
    async with db.begin() as conn:  # the 2nd batch trips over kernels that refuse to go
        await conn.execute(sa.text(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN "
            "IF OLD.terminated_at > now() - interval '16 days' THEN "
            "RAISE EXCEPTION 'kernel pinned'; END IF; RETURN OLD; END$$"))
        await conn.execute(sa.text("CREATE TRIGGER refuse BEFORE DELETE ON kernels "
                                   "FOR EACH ROW EXECUTE FUNCTION refuse()"))
    try:
        r = await drain(db, sweep(SESSIONS, before=now(), limit=5), operator="k")
    finally:
        async with db.begin() as conn:
            await conn.execute(sa.text("DROP FUNCTION refuse() CASCADE"))
    # the drain narrows each failing batch down to the row at fault, parks it, goes on
    assert (r.count, r.stopped, r.error) == (6, "done", None)
    assert sorted(r.parked) == sorted(str(ids[a]) for a in range(10, 16))
    assert await count(db, sessions) == 6 and await count(db, kernels) == 12
    parked = await journal.parked.listing(db, "sessions")
    assert {p.row_key for p in parked} == set(r.parked)
    assert all("kernel pinned" in p.reason and p.drain_id == r.drain_id for p in parked)
    (row,) = await journal.drains.listing(db)
    assert (row.id, row.status, row.count, row.parked) == (r.drain_id, "done", 6, 6)
    # a second drain passes the parked rows by: nothing to do, nothing fails
    again = await drain(db, sweep(SESSIONS, before=now(), limit=5), operator="k")
    assert (again.count, again.parked, again.stopped) == (0, [], "done")


async def test_a_prune_inside_a_callers_rolled_back_transaction_leaves_no_journal_row(db):
    await add_session(db, age_days=20)
    async with db.connect() as conn:
        await conn.begin()
        r = await operations.prune(conn, sweep(SESSIONS, before=now(), limit=5), operator="l")
        assert r.count == 1 and r.run_id is not None
        await conn.rollback()
    assert await runs(db) == []
    assert await count(db, sessions) == 1


async def test_preview_of_selected_ids_counts_what_pruning_them_deletes(db):
    ok = [await add_session(db, age_days=30 + i) for i in range(3)]
    live = await add_session(db, status="RUNNING", age_days=None)
    routed = await add_session(db, age_days=40, routed=True)
    chosen = [str(ok[0]), ok[2], live, routed]
    pv = await preview(db, sweep(SESSIONS, before=now(), ids=chosen), sample_size=10)
    assert (pv.candidates, pv.blocked, pv.limit) == (2, 1, 4)
    assert {r["id"] for r in pv.sample} == {ok[0], ok[2]}
    r = await operations.prune(db, sweep(SESSIONS, before=pv.cutoff, ids=chosen), operator="m")
    assert r.deleted == pv.cascade and set(r.ids) == {ok[0], ok[2]}
    assert r.skipped == [live, routed]


async def test_drain_progress_targets_what_its_batch_bound_can_reach(db):
    await add_logs(db, [10 + i for i in range(30)])
    seen = []
    await drain(db, sweep(LOGS, before=now(), limit=5),
                max_batches=2, operator="n", progress=seen.append)
    assert [(p.done, p.estimated_total) for p in seen] == [(5, 10), (10, 10)]
