"""Bad input: property-based tests over the core API and the CLI, plus a broken environment.

Every call ends in one of two ways: our typed error, with a one-line message that names the bad
value, or a correct result (checked against an oracle written here in plain SQL). Nothing that
should stay is ever deleted, and SQL-looking text is only ever data. Core API examples run inside
a caller's transaction that is checked and then rolled back, so the data set stays fixed;
`DROP TABLE` would roll back too, so each example checks the tables *before* the rollback.
"""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core import PruneSettings, errors, execute_pruner, registry, sweep
from core.demo.cluster import LocalCluster
from core.demo.seed import create_schema
from core.drain import drain
from core.settings import default_operator
from tests.reliability.helpers import (
    TRUNCATE_REFERENCE,
    assert_clean_failure,
    assert_operator_message,
    cli,
    engine_for,
    operations_module,
    seed_sessions,
    table_counts,
)

MAX_LIMIT = PruneSettings().max_limit
SESSIONS, LOGS = registry.get("sessions"), registry.get("audit_logs")
EXAMPLES = settings(max_examples=40, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

SQLISH = [
    "'; DROP TABLE sessions; --", "1; DELETE FROM sessions", "\" OR 1=1 --", "') OR ('1'='1",
    "$$; TRUNCATE sessions CASCADE; $$", "sessions WHERE true", "*", "%s", ":before", "NULL",
    "1 OR 1=1", "0x1F", "sessions\x00", "pg_sleep(10)", "'; SELECT pg_terminate_backend(pid) --",
]
sqlish = st.sampled_from(SQLISH)
junk = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=True), st.text(max_size=30),
                 sqlish, st.binary(max_size=8), st.dates(), st.lists(st.integers(), max_size=2),
                 st.dictionaries(st.text(max_size=3), st.integers(), max_size=1))
# free text an operator may give as operator or reason
any_text = st.one_of(st.text(max_size=40), sqlish, st.text(min_size=129, max_size=3000),
                     # what non-UTF-8 bytes in argv become: lone surrogates
                     st.text(st.characters(codec=None, categories=["Cs"]), min_size=1,
                             max_size=3))


# ------------------------------------------------------------------------------ data + oracle
CANDIDATES_SQL = """
    SELECT s.id::text FROM sessions s
    WHERE s.status IN ('TERMINATED', 'CANCELLED') AND s.terminated_at < :before
      AND NOT EXISTS (SELECT 1 FROM routings r WHERE r.session = s.id)
      AND NOT EXISTS (SELECT 1 FROM kernels k WHERE k.session_id = s.id
                      AND k.status NOT IN ('TERMINATED', 'CANCELLED'))
    ORDER BY s.terminated_at, s.id
"""
EXTRA_ROWS = [
    # dead but never stamped, and ERROR sessions: never candidates
    "INSERT INTO sessions (user_uuid, group_id, status, terminated_at) VALUES "
    "(gen_random_uuid(), gen_random_uuid(), 'TERMINATED', NULL), "
    "(gen_random_uuid(), gen_random_uuid(), 'ERROR', now() - interval '300 days')",
    "INSERT INTO audit_logs (created_at, actor, action) "
    "SELECT now() - make_interval(days => g), 'u', 'login' FROM generate_series(1, 20) g",
]


async def seed_input(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(sa.text(TRUNCATE_REFERENCE))
        await seed_sessions(conn, dead=30, live=6, blocked=3, stuck=3, deps=8, seed=0.25)
        for stmt in EXTRA_ROWS:
            await conn.execute(sa.text(stmt))


async def oracle(conn: AsyncConnection, before: datetime) -> list[str]:
    return [r[0] for r in await conn.execute(sa.text(CANDIDATES_SQL), {"before": before})]


async def session_ids(conn: AsyncConnection) -> list[str]:
    return sorted(r[0] for r in await conn.execute(sa.text("SELECT id::text FROM sessions")))


@pytest.fixture(scope="module")
def input_url(pg_cluster: LocalCluster) -> str:
    return pg_cluster.create_database("pruner_input")


@pytest.fixture(scope="module")
async def input_db(input_url: str) -> AsyncIterator[AsyncEngine]:
    eng = engine_for(input_url, app="input-test")
    await create_schema(eng)
    await seed_input(eng)
    yield eng
    await eng.dispose()


class Outcome:
    """What one call did, seen from inside the caller's transaction before its rollback."""

    def __init__(self, result: Any, error: BaseException | None, counts: dict[str, int],
                 remaining: list[str], journal: list[tuple[str, str, str]]) -> None:
        self.result, self.error, self.counts = result, error, counts
        self.remaining, self.journal = remaining, journal


async def attempt(engine: AsyncEngine, api: str, pruner: Any, **kw: Any) -> Outcome:
    """Call `api` in a caller's transaction, look at the database, roll everything back."""
    ops = operations_module()
    async with engine.connect() as conn:
        await conn.begin()
        try:
            result, error = None, None
            try:
                if api == "execute":
                    result = await execute_pruner(conn, pruner, **kw)
                else:  # the entry point builds the one sweep request; bad input fails there
                    asked = {k: kw.pop(k) for k in SWEEP_ARGS if k in kw}
                    req = sweep(pruner, **asked, settings=kw.get("settings"))
                    if api == "preview":
                        from core.preview import preview
                        result = await preview(conn, req, **kw)
                    elif api == "drain":
                        result = await drain(conn, req, **kw)
                    else:
                        assert ops is not None
                        result = await getattr(ops, api)(conn, req, **kw)
            except errors.PrunerError as exc:
                error = exc
            # the tables are all there (a DROP would fail here) and hold what they should
            counts = await table_counts(conn)
            remaining = await session_ids(conn)
            journal = [tuple(r) for r in await conn.execute(sa.text(
                "SELECT status, operator, reason FROM pruner.prune_runs ORDER BY id"))]
        finally:
            await conn.rollback()
    return Outcome(result, error, counts, remaining, journal)


SWEEP_ARGS = ("before", "limit", "ids", "cascade_rbac")


def apis() -> list[str]:
    return ["execute"] + (["prune", "rehearse", "drain", "preview"] if operations_module() else [])


async def baseline(engine: AsyncEngine) -> tuple[dict[str, int], list[str]]:
    async with engine.connect() as conn:
        return await table_counts(conn), await session_ids(conn)


def check_ok_result(api: str, out: Outcome, expected: list[str], limit: int,
                    before_counts: dict[str, int], before_ids: list[str]) -> None:
    """A successful call did exactly what the oracle says."""
    assert out.error is None
    r = out.result
    want = expected[:limit]
    if api in ("execute", "prune"):
        assert [str(i) for i in r.ids] == want
        assert out.remaining == sorted(set(before_ids) - set(want))
    elif api == "rehearse":
        assert [str(i) for i in r.ids] == want and out.remaining == before_ids
    elif api == "preview":
        assert r.candidates == len(expected) and r.would_delete == len(want)
        assert out.counts == before_counts
    elif api == "drain":
        assert r.count == len(expected) and r.stopped == "done"
        assert out.remaining == sorted(set(before_ids) - set(expected))


def check_refused(out: Outcome, before_counts: dict[str, int], *mentions: str) -> None:
    """A refused call raised InvalidArgument naming the bad thing and changed nothing."""
    assert isinstance(out.error, errors.InvalidArgument), out.error
    assert_operator_message(out.error)
    msg = str(out.error).lower()
    assert any(m.lower() in msg for m in mentions), (mentions, str(out.error))
    assert out.counts == before_counts
    assert [s for s, _, _ in out.journal if s == "succeeded"] == []


# ------------------------------------------------------------------------------ limits
limits = st.one_of(st.integers(-3, 60), st.integers(-(2**70), 2**70),
                   st.sampled_from([0, 1, MAX_LIMIT, MAX_LIMIT + 1, 2**31, 2**63]), junk)


@EXAMPLES
@given(limit=limits, api=st.sampled_from(["execute", "prune", "rehearse", "drain", "preview"]))
async def test_any_limit_is_refused_clearly_or_honoured_exactly(
    input_db: AsyncEngine, limit: Any, api: str
) -> None:
    if api not in apis():
        return
    before_counts, before_ids = await baseline(input_db)
    cutoff = datetime.now(UTC)
    out = await attempt(input_db, api, SESSIONS, before=cutoff, limit=limit,
                        **({} if api in ("execute", "preview") else {"operator": "fuzz"}))
    valid = isinstance(limit, int) and not isinstance(limit, bool) and 1 <= limit <= MAX_LIMIT
    if limit is None and out.error is None:
        valid, limit = True, 1_000  # None means the default where the API has one
    if valid:
        async with input_db.connect() as conn:
            expected = await oracle(conn, cutoff)
        check_ok_result(api, out, expected, limit, before_counts, before_ids)
    else:
        check_refused(out, before_counts, "limit", "batch")


# ------------------------------------------------------------------------------ cutoffs
def _now() -> datetime:
    return datetime.now(UTC)


def _sendable(t: datetime) -> bool:
    """Whether an aware time exists in UTC at all (datetime cannot go below year 1)."""
    try:
        t.astimezone(UTC)
    except OverflowError:
        return False
    return True


cutoffs = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31),
                 timezones=st.none() | st.timezones()),
    st.integers(1, 14 * 60).map(lambda m: datetime(1, 1, 1, tzinfo=timezone(
        timedelta(minutes=m)))),  # before year 1 in UTC: cannot be sent, must be refused
    st.floats(1, 4e7).map(lambda s: _now() - timedelta(seconds=s)),  # inside the data's range
    st.floats(5, 1e9).map(lambda s: _now() + timedelta(seconds=s)),  # the future
    st.integers(-14 * 60, 14 * 60).map(lambda m: (_now() - timedelta(days=90)).astimezone(
        timezone(timedelta(minutes=m)))),  # any offset
    junk, st.integers(), st.builds(date.today),
)


@EXAMPLES
@given(before=cutoffs, api=st.sampled_from(["execute", "prune", "rehearse", "drain", "preview"]))
async def test_any_cutoff_is_refused_clearly_or_honoured_exactly(
    input_db: AsyncEngine, before: Any, api: str
) -> None:
    if api not in apis():
        return
    if isinstance(before, datetime) and before.tzinfo is not None and abs(
            before - _now()) < timedelta(seconds=5):
        return  # too close to "now + 1 s" to say which side of it the call will see
    before_counts, before_ids = await baseline(input_db)
    out = await attempt(input_db, api, SESSIONS, before=before, limit=25,
                        **({} if api in ("execute", "preview") else {"operator": "fuzz"}))
    aware = isinstance(before, datetime) and before.utcoffset() is not None
    if aware and before <= _now() and _sendable(before):
        async with input_db.connect() as conn:
            expected = await oracle(conn, before)
        check_ok_result(api, out, expected, 25, before_counts, before_ids)
    else:
        check_refused(out, before_counts, "before", "cutoff")


# ------------------------------------------------------------------------------ entity names
@EXAMPLES
@given(name=st.one_of(st.text(max_size=80), sqlish, junk, st.integers(),
                      st.sampled_from(["Sessions", " sessions", "sessions ", "session"])))
def test_any_entity_name_is_a_known_pruner_or_a_clear_error(name: Any) -> None:
    try:
        p = registry.get(name)
    except errors.UnknownEntity as exc:
        assert_operator_message(exc, "unknown entity", "known: ")
        assert repr(name)[:40] in str(exc) or len(repr(name)) > 60
        assert name not in registry.names()
    else:
        assert name in registry.names() and p.name == name


# ------------------------------------------------------------------------------ ids
def _variants(u: str) -> st.SearchStrategy[Any]:
    return st.sampled_from([u, uuid.UUID(u), u.upper(), f"  {u} ", "{" + u + "}",
                            u.replace("-", ""), f"urn:uuid:{u}"])


async def _all_session_ids(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return await session_ids(conn)


@EXAMPLES
@given(data=st.data(), api=st.sampled_from(["execute", "prune", "rehearse"]),
       limit=st.one_of(st.none(), st.integers(1, 5)))
async def test_any_id_list_deletes_only_qualifying_requested_rows_or_is_refused(
    input_db: AsyncEngine, data: st.DataObject, api: str, limit: int | None
) -> None:
    if api not in apis():
        return
    known = await _all_session_ids(input_db)
    element = st.one_of(
        st.sampled_from(known).flatmap(_variants),  # live, dead, blocked alike
        st.uuids(), st.uuids().map(str),  # unknown
        st.integers(), st.floats(), sqlish, st.text(max_size=20), st.none(), st.binary(max_size=4),
    )
    ids = data.draw(st.one_of(st.lists(element, max_size=8), st.just([]), sqlish, st.integers(),
                              st.floats(), st.none(), st.frozensets(st.uuids(), max_size=3)),
                    label="ids")
    before_counts, before_ids = await baseline(input_db)
    cutoff = datetime.now(UTC)
    kw: dict[str, Any] = {} if api == "execute" else {"operator": "fuzz"}
    if limit is not None:
        kw["limit"] = limit
    out = await attempt(input_db, api, SESSIONS, before=cutoff, ids=ids, **kw)

    def parse(x: Any) -> uuid.UUID | None:
        if isinstance(x, uuid.UUID):
            return x
        if isinstance(x, str):
            try:
                return uuid.UUID(x.strip())
            except ValueError:
                return None
        return None

    if ids is None:  # no selection: an ordinary capped prune
        async with input_db.connect() as conn:
            expected = await oracle(conn, cutoff)
        check_ok_result(api, out, expected, limit or 1_000, before_counts, before_ids)
        return
    parsed = ([parse(x) for x in ids] if isinstance(ids, list | frozenset) else [None])
    if not parsed or any(p is None for p in parsed):
        check_refused(out, before_counts, "id")
        return
    wanted = list(dict.fromkeys(str(p) for p in parsed))
    async with input_db.connect() as conn:
        expected = [i for i in await oracle(conn, cutoff) if i in wanted]
    check_ok_result(api, out, expected, limit or len(wanted), before_counts, before_ids)
    got = {str(i) for i in out.result.ids}
    assert [str(s) for s in out.result.skipped] == [w for w in wanted if w not in got]


INT64 = st.integers(-(2**63), 2**63 - 1)
BEYOND = st.one_of(st.integers(2**63, 2**70), st.integers(-(2**70), -(2**63) - 1))


@EXAMPLES
@given(ids=st.lists(st.one_of(INT64, st.booleans(), INT64.map(lambda i: f" {i} "),
                              st.sampled_from([2**63 - 1, -(2**63), "+7", "007", "-0"]),
                              st.integers(1, 25), st.integers(1, 25), BEYOND, BEYOND.map(str)),
                    min_size=1, max_size=5))
async def test_integer_ids_are_honoured_or_refused_when_not_64_bit(
    input_db: AsyncEngine, ids: list[Any]
) -> None:
    """audit_logs has a bigint key: any 64-bit integer (or its digits) is a fine id; a boolean,
    or a value beyond 64 bits, is a bad id (not a failed prune)."""
    before_counts, _ = await baseline(input_db)
    out = await attempt(input_db, "execute", LOGS, before=datetime.now(UTC), ids=ids)
    if any(isinstance(x, bool) or not -(2**63) <= int(x) < 2**63 for x in ids):
        check_refused(out, before_counts, "id")
        return
    wanted = {int(x) for x in ids}
    assert out.error is None, out.error
    assert set(out.result.ids) <= wanted and set(out.result.ids) <= set(range(1, 21))
    assert {*out.result.ids, *out.result.skipped} == wanted
    assert out.counts["audit_logs"] == before_counts["audit_logs"] - out.result.count


# ------------------------------------------------------------------------------ free text
@EXAMPLES
@given(operator=st.one_of(st.none(), any_text, st.integers(), st.floats(), st.booleans()),
       reason=st.one_of(any_text, st.none(), st.integers(), st.binary(min_size=1)))
async def test_operator_and_reason_are_stored_verbatim_or_refused(
    input_db: AsyncEngine, operator: Any, reason: Any
) -> None:
    if operations_module() is None:
        pytest.skip("FOLLOW-UP: needs core.operations")
    before_counts, before_ids = await baseline(input_db)
    cutoff = datetime.now(UTC)
    out = await attempt(input_db, "prune", SESSIONS, before=cutoff, limit=3, operator=operator,
                        reason=reason)
    if out.error is not None:
        check_refused(out, before_counts, "operator", "reason")
        return
    async with input_db.connect() as conn:
        expected = await oracle(conn, cutoff)
    check_ok_result("prune", out, expected, 3, before_counts, before_ids)
    [(status, stored_op, stored_reason)] = out.journal
    assert status == "succeeded" and stored_reason == reason.strip()
    # no operator (None or "") means the default one
    assert stored_op == (operator.strip() if operator else ops_default_operator())


def ops_default_operator() -> str:
    return default_operator()


async def test_sql_text_in_every_argument_is_only_ever_data(input_db: AsyncEngine) -> None:
    """The classic strings, everywhere at once: refused or stored, never executed."""
    before_counts, _ = await baseline(input_db)
    for text in SQLISH:
        with pytest.raises(errors.UnknownEntity):
            registry.get(text)
        for kw, mention in (({"limit": text}, "limit"), ({"before": text}, "before"),
                            ({"ids": [text]}, "id"), ({"ids": text}, "id"),
                            ({"cascade_rbac": text}, "cascade_rbac")):
            out = await attempt(input_db, "execute", SESSIONS,
                                **({"before": datetime.now(UTC), "limit": 5} | kw))
            check_refused(out, before_counts, mention)
        if operations_module() is not None and "\x00" not in text:
            out = await attempt(input_db, "prune", SESSIONS, before=datetime.now(UTC), limit=2,
                                operator=text, reason=text)
            assert out.error is None and out.journal == [("succeeded", text.strip(), text)]
    assert (await baseline(input_db))[0] == before_counts


# ------------------------------------------------------------------------------ environment
def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _with(url: str, **parts: Any) -> str:
    return make_url(url).set(**parts).render_as_string(hide_password=False)


async def _each_api(url: str) -> dict[str, BaseException | Any]:
    """Every core entry point against `url`: what each raised (or returned)."""
    ops = operations_module()
    eng = engine_for(url, app="env-test")
    out: dict[str, BaseException | Any] = {}
    calls: dict[str, Any] = {
        "execute": lambda: execute_pruner(eng, SESSIONS, before=datetime.now(UTC), limit=5)}
    if ops is not None:
        from core import journal
        from core.preview import preview
        calls |= {
            "prune": lambda: ops.prune(eng, sweep(SESSIONS, before=datetime.now(UTC), limit=5),
                                       operator="env"),
            "rehearse": lambda: ops.rehearse(
                eng, sweep(SESSIONS, before=datetime.now(UTC), limit=5), operator="env"),
            "drain": lambda: drain(eng, sweep(SESSIONS, before=datetime.now(UTC), limit=5),
                                   operator="env"),
            "preview": lambda: preview(eng, sweep(SESSIONS, before=datetime.now(UTC), limit=5)),
            "history": lambda: journal.history(eng),
        }
    try:
        for name, call in calls.items():
            try:
                out[name] = await asyncio.wait_for(call(), 60)
            except Exception as exc:  # noqa: BLE001 - the point is to see what escapes
                out[name] = exc
            else:  # a drain reports a failed batch in its result (the CLI exits 1)
                if name == "drain" and out[name].stopped == "failed":
                    out[name] = DrainStopped(out[name].error)
    finally:
        await eng.dispose()
    return out


class DrainStopped(Exception):
    """A drain that stopped on a failed batch, with the error it reported."""


def _assert_all_raise(found: dict[str, Any], kind: type[Exception], *mentions: str,
                      secret: str | None = None) -> None:
    bad = {k: repr(v) for k, v in found.items() if not isinstance(v, kind | DrainStopped)}
    assert not bad, f"expected {kind.__name__} from every entry point, got {bad}"
    for exc in found.values():
        assert_operator_message(exc, *mentions)
        if secret:
            assert secret not in str(exc)


async def test_an_unreachable_database_is_database_unavailable(pg_cluster: LocalCluster) -> None:
    url = _with(pg_cluster.url("pruner_input"), port=_closed_port())
    _assert_all_raise(await _each_api(url), errors.DatabaseUnavailable, "unreachable",
                      secret=pg_cluster.password)


async def test_an_unknown_host_is_database_unavailable(pg_cluster: LocalCluster) -> None:
    url = _with(pg_cluster.url("pruner_input"), host="no-such-host.invalid")
    _assert_all_raise(await _each_api(url), errors.DatabaseUnavailable,
                      secret=pg_cluster.password)


async def test_a_wrong_password_is_database_unavailable(pg_cluster: LocalCluster) -> None:
    url = _with(pg_cluster.url("pruner_input"), password="not-the-password")
    _assert_all_raise(await _each_api(url), errors.DatabaseUnavailable, "password",
                      secret="not-the-password")


async def test_a_missing_database_is_database_unavailable(pg_cluster: LocalCluster) -> None:
    url = pg_cluster.url("no_such_database")
    _assert_all_raise(await _each_api(url), errors.DatabaseUnavailable, "no_such_database")


async def test_missing_tables_are_schema_missing(pg_cluster: LocalCluster) -> None:
    url = pg_cluster.create_database("pruner_empty")
    found = await _each_api(url)
    found.pop("history", None)  # an empty journal is an empty history
    _assert_all_raise(found, errors.SchemaMissing, "sessions")


READ_ONLY_ROLE = "pruner_readonly"


@pytest.fixture(scope="module")
def read_only_url(pg_cluster: LocalCluster, input_url: str, input_db: AsyncEngine) -> str:
    """A role that may only read: SELECT on every table, nothing else."""
    pw = "ro-" + uuid.uuid4().hex[:12]
    exists = pg_cluster.psql(
        f"SELECT 1 FROM pg_roles WHERE rolname = '{READ_ONLY_ROLE}'")  # noqa: S608 - constant
    verb = "ALTER" if exists else "CREATE"
    pg_cluster.psql(f"{verb} ROLE {READ_ONLY_ROLE} LOGIN PASSWORD '{pw}'")
    for sql in ("REVOKE CREATE ON SCHEMA public FROM PUBLIC",
                f"GRANT USAGE ON SCHEMA public, pruner TO {READ_ONLY_ROLE}",
                f"GRANT SELECT ON ALL TABLES IN SCHEMA public, pruner TO {READ_ONLY_ROLE}"):
        pg_cluster.psql(sql, database="pruner_input")
    return _with(input_url, username=READ_ONLY_ROLE, password=pw)


async def test_a_read_only_role_gets_permission_denied_and_can_still_preview(
    read_only_url: str, input_db: AsyncEngine
) -> None:
    before_counts, _ = await baseline(input_db)
    found = await _each_api(read_only_url)
    readers = {k: found.pop(k) for k in ("preview", "history") if k in found}
    _assert_all_raise(found, errors.PermissionDenied, "permission denied")
    for name, value in readers.items():  # reading needs no more than SELECT
        assert not isinstance(value, BaseException), (name, value)
    assert (await baseline(input_db))[0] == before_counts


OPERATOR_ROLE = "pruner_operator"


@pytest.fixture(scope="module")
def operator_url(pg_cluster: LocalCluster, input_url: str, input_db: AsyncEngine) -> str:
    """The least a pruning role needs: read, lock (FOR UPDATE needs UPDATE) and delete the
    entity's rows, delete its children's, write the journal. No DDL, no CREATE anywhere."""
    pw = "op-" + uuid.uuid4().hex[:12]
    exists = pg_cluster.psql(
        f"SELECT 1 FROM pg_roles WHERE rolname = '{OPERATOR_ROLE}'")  # noqa: S608 - constant
    pg_cluster.psql(f"{'ALTER' if exists else 'CREATE'} ROLE {OPERATOR_ROLE} LOGIN PASSWORD '{pw}'")
    for sql in (f"GRANT USAGE ON SCHEMA public, pruner TO {OPERATOR_ROLE}",
                f"GRANT SELECT, DELETE ON ALL TABLES IN SCHEMA public TO {OPERATOR_ROLE}",
                f"GRANT UPDATE ON sessions, vfolders, audit_logs TO {OPERATOR_ROLE}",
                f"GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA pruner TO {OPERATOR_ROLE}",
                f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA pruner TO {OPERATOR_ROLE}"):
        pg_cluster.psql(sql, database="pruner_input")
    return _with(input_url, username=OPERATOR_ROLE, password=pw)


async def test_a_least_privilege_role_can_prune_and_preview(
    operator_url: str, input_db: AsyncEngine
) -> None:
    before_counts, before_ids = await baseline(input_db)
    eng = engine_for(operator_url, app="operator-role")
    try:
        cutoff = datetime.now(UTC)
        async with input_db.connect() as conn:
            expected = await oracle(conn, cutoff)
        out = await attempt(eng, "execute", SESSIONS, before=cutoff, limit=4)
        check_ok_result("execute", out, expected, 4, before_counts, before_ids)
        if operations_module() is not None:
            out = await attempt(eng, "preview", SESSIONS, before=cutoff, limit=4)
            check_ok_result("preview", out, expected, 4, before_counts, before_ids)
    finally:
        await eng.dispose()


async def test_a_least_privilege_role_can_run_a_journaled_prune(
    operator_url: str, input_db: AsyncEngine
) -> None:
    before_counts, before_ids = await baseline(input_db)
    eng = engine_for(operator_url, app="operator-role")
    try:
        cutoff = datetime.now(UTC)
        async with input_db.connect() as conn:
            expected = await oracle(conn, cutoff)
        out = await attempt(eng, "prune", SESSIONS, before=cutoff, limit=4, operator="op")
        check_ok_result("prune", out, expected, 4, before_counts, before_ids)
    finally:
        await eng.dispose()


async def test_cli_with_a_read_only_role_fails_clearly_and_still_previews(
    read_only_url: str, input_db: AsyncEngine
) -> None:
    before = await baseline(input_db)
    proc = await asyncio.to_thread(cli, "prune", "sessions", "--older-than", "1d", "--yes",
                                   url=read_only_url)
    assert_clean_failure(proc, 1, "permission denied")
    proc = await asyncio.to_thread(cli, "preview", "sessions", "--older-than", "1d", "--json",
                                   url=read_only_url)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["candidates"] > 0
    assert await baseline(input_db) == before


async def test_a_read_only_transaction_gets_permission_denied(
    input_url: str, input_db: AsyncEngine
) -> None:
    before_counts, _ = await baseline(input_db)
    eng = engine_for(input_url, app="ro-test",
                     server_settings={"default_transaction_read_only": "on"})
    try:
        with pytest.raises(errors.PermissionDenied) as info:
            await execute_pruner(eng, SESSIONS, before=datetime.now(UTC), limit=5)
        assert_operator_message(info.value, "read-only")
        ops = operations_module()
        if ops is not None:
            with pytest.raises(errors.PermissionDenied) as info:
                await ops.prune(eng, sweep(SESSIONS, before=datetime.now(UTC), limit=5),
                                operator="ro")
            assert_operator_message(info.value, "read-only")
    finally:
        await eng.dispose()
    assert (await baseline(input_db))[0] == before_counts


# ------------------------------------------------------------------------------ the CLI
@pytest.fixture(scope="module")
def cli_url(pg_cluster: LocalCluster) -> str:
    return pg_cluster.create_database("pruner_cli")


@pytest.fixture
async def cli_db(cli_url: str) -> AsyncIterator[AsyncEngine]:
    eng = engine_for(cli_url, app="cli-test")
    await create_schema(eng)
    await seed_input(eng)
    yield eng
    await eng.dispose()


CLI_BAD = [
    (["prune", "'; DROP TABLE sessions; --", "--older-than", "1d", "--yes"], "unknown entity"),
    (["prune", "sessions", "--older-than", "1d", "--limit", "0", "--yes"], "--limit"),
    (["prune", "sessions", "--older-than", "1d", "--limit", "-5", "--yes"], "--limit"),
    (["prune", "sessions", "--older-than", "1d", "--limit", "1e3", "--yes"], "--limit"),
    (["prune", "sessions", "--older-than", "1d", "--limit", "100001", "--yes"], "limit"),
    (["prune", "sessions", "--older-than", "1d", "--limit", "1; DELETE FROM sessions", "--yes"],
     "--limit"),
    (["prune", "sessions", "--before", "2020-01-01", "--yes"], "timezone"),
    (["prune", "sessions", "--before", "2999-01-01T00:00:00Z", "--yes"], "future"),
    (["prune", "sessions", "--before", "yesterday", "--yes"], "--before"),
    (["prune", "sessions", "--before", "'; DROP TABLE sessions; --", "--yes"], "--before"),
    (["prune", "sessions", "--older-than", "0d", "--yes"], "--older-than"),
    (["prune", "sessions", "--older-than", "-3d", "--yes"], "--older-than"),
    (["prune", "sessions", "--older-than", "3 fortnights", "--yes"], "--older-than"),
    (["prune", "sessions", "--yes"], "cutoff"),
    (["prune", "sessions", "--older-than", "1d"], "--yes"),  # no terminal, no --yes
    (["prune", "sessions", "--older-than", "1d", "--ids-from", "/no/such/file", "--yes"],
     "/no/such/file"),
    (["drain", "sessions", "--older-than", "1d", "--batch-size", "abc", "--yes"],
     "--batch-size"),
    (["history", "--status", "'; DROP TABLE sessions; --"], "--status"),
    (["export", "0"], "run_id"),
    (["frobnicate"], "frobnicate"),
]


@pytest.mark.parametrize("argv, mention", CLI_BAD, ids=[" ".join(a)[:50] for a, _ in CLI_BAD])
async def test_cli_bad_arguments_exit_2_with_one_line_and_change_nothing(
    cli_db: AsyncEngine, cli_url: str, argv: list[str], mention: str
) -> None:
    before = await baseline(cli_db)
    proc = await asyncio.to_thread(cli, *argv, url=cli_url)
    assert_clean_failure(proc, 2, mention)
    assert await baseline(cli_db) == before


async def test_cli_bad_ids_files_are_refused_and_change_nothing(
    cli_db: AsyncEngine, cli_url: str, tmp_path: Path
) -> None:
    before = await baseline(cli_db)
    for content, mention in [("not-a-uuid\n", "not-a-uuid"),
                             ("'; DROP TABLE sessions; --\n", "drop table"),
                             ("", "no ids"), ("id\n1.5\n", "1.5")]:
        f = tmp_path / "ids.txt"
        f.write_text(content)
        proc = await asyncio.to_thread(cli, "prune", "sessions", "--older-than", "1d",
                                       "--ids-from", str(f), "--yes", url=cli_url)
        assert_clean_failure(proc, 2, mention)
    binary = tmp_path / "ids.bin"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    proc = await asyncio.to_thread(cli, "prune", "sessions", "--older-than", "1d",
                                   "--ids-from", str(binary), "--yes", url=cli_url)
    assert_clean_failure(proc, 2, "text")
    assert await baseline(cli_db) == before


async def test_cli_environment_failures_are_one_clear_line(
    pg_cluster: LocalCluster, cli_url: str, cli_db: AsyncEngine
) -> None:
    pw = pg_cluster.password
    cases = [
        (_with(cli_url, port=_closed_port()), "unreachable"),
        (_with(cli_url, password="wrong-pw"), "password"),
        (pg_cluster.url("no_such_database"), "no_such_database"),
        (pg_cluster.create_database("pruner_empty"), "sessions"),
    ]
    for url, mention in cases:
        for argv in (["prune", "sessions", "--older-than", "1d", "--yes"],
                     ["prune", "sessions", "--older-than", "1d", "--dry-run"],
                     ["preview", "sessions", "--older-than", "1d"],
                     ["drain", "sessions", "--older-than", "1d", "--yes"],
                     ["history"]):
            if argv == ["history"] and mention == "sessions":
                continue  # an empty database has an empty history
            proc = await asyncio.to_thread(cli, *argv, url=url)
            assert_clean_failure(proc, 1, mention, secret=pw)
    proc = await asyncio.to_thread(cli, "prune", "sessions", "--older-than", "1d", "--yes",
                                   url=None)
    assert_clean_failure(proc, 2, "PRUNER_DATABASE_URL")
    proc = await asyncio.to_thread(cli, "prune", "sessions", "--older-than", "1d", "--yes",
                                   url="mysql://u:p@localhost/db")
    assert_clean_failure(proc, 2, "postgresql")


cli_values = st.one_of(st.text(st.characters(codec="utf-8", exclude_characters="\x00"),
                               max_size=20), sqlish.filter(lambda s: "\x00" not in s),
                       st.integers(-5, 10**6).map(str), st.sampled_from(["", "-", "--yes"]))


@settings(max_examples=15, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(entity=st.one_of(st.sampled_from(["sessions", "audit_logs", "vfolders"]), cli_values),
       cutoff=st.one_of(st.tuples(st.just("--older-than"), cli_values | st.sampled_from(
           ["1d", "30d", "12h", "2w", "99999d", "740000d", "999999w"])),
           st.tuples(st.just("--before"), cli_values | st.sampled_from(
               ["2020-01-01T00:00:00Z", "2020-01-01", "2026-02-30T00:00:00Z"]))),
       limit=st.one_of(st.none(), cli_values),
       extra=st.lists(st.sampled_from(["--json", "--no-rbac", "--dry-run"]), unique=True))
async def test_cli_fuzz_never_tracebacks_and_never_deletes_what_it_should_not(
    cli_db: AsyncEngine, cli_url: str, entity: str, cutoff: tuple[str, str],
    limit: str | None, extra: list[str]
) -> None:
    async with cli_db.connect() as conn:
        keep = set(await session_ids(conn)) - set(await oracle(conn, datetime.now(UTC)))
        before_counts = await table_counts(conn)
    argv = ["prune", entity, *cutoff, "--yes", *extra]
    if limit is not None:
        argv += ["--limit", limit]
    proc = await asyncio.to_thread(cli, *argv, url=cli_url)
    assert proc.returncode in (0, 1, 2), proc
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    async with cli_db.connect() as conn:
        after_ids = set(await session_ids(conn))
        after_counts = await table_counts(conn)
    assert keep <= after_ids  # nothing that did not qualify is ever gone
    if proc.returncode != 0 or "--dry-run" in extra:
        assert after_counts == before_counts
        if proc.returncode:
            assert proc.stderr.strip().startswith("pruner: ") and "\n" not in proc.stderr.strip()
    elif "--json" in extra:
        doc = json.loads(proc.stdout)
        assert doc["entity"] == entity and doc["count"] == len(doc["ids"])
    await seed_input(cli_db)  # the next example starts from the same data


# ------------------------------------------------------------------------------ regressions
# Each of these found a bug in core (first committed as a strict xfail, fixed in b55fcad); the
# property tests above now generate these inputs too.


async def test_preview_of_an_unreachable_database_is_typed(pg_cluster: LocalCluster) -> None:
    from core.preview import preview

    for url in (_with(pg_cluster.url("pruner_input"), port=_closed_port()),
                _with(pg_cluster.url("pruner_input"), host="no-such-host.invalid")):
        eng = engine_for(url)
        try:
            with pytest.raises(errors.DatabaseUnavailable):
                await preview(eng, sweep(SESSIONS, before=datetime.now(UTC), limit=5))
        finally:
            await eng.dispose()
    proc = await asyncio.to_thread(cli, "preview", "sessions", "--older-than", "1d",
                                   url=_with(pg_cluster.url("pruner_input"), port=_closed_port()))
    assert_clean_failure(proc, 1, "unreachable")


@pytest.mark.parametrize("api", ["execute", "prune"])
async def test_a_non_iterable_id_list_is_refused(input_db: AsyncEngine, api: str) -> None:
    before_counts, _ = await baseline(input_db)
    for ids in (0, 5, 1.5, object()):
        out = await attempt(input_db, api, SESSIONS, before=datetime.now(UTC), ids=ids,
                            **({} if api == "execute" else {"operator": "t"}))
        check_refused(out, before_counts, "ids")


@pytest.mark.parametrize("bad", [2**63, -(2**63) - 1, 10**30, "9999999999999999999"])
async def test_an_id_beyond_64_bits_is_a_bad_id(input_db: AsyncEngine, bad: Any) -> None:
    before_counts, _ = await baseline(input_db)
    out = await attempt(input_db, "execute", LOGS, before=datetime.now(UTC), ids=[1, bad])
    check_refused(out, before_counts, str(bad)[:10])


@pytest.mark.parametrize("text", ["\udcff", "ok \ud800 then"])
@pytest.mark.parametrize("field", ["operator", "reason"])
async def test_operator_or_reason_that_is_not_utf8_is_refused(
    input_db: AsyncEngine, text: str, field: str
) -> None:
    before_counts, _ = await baseline(input_db)
    kw = {"operator": "t", "reason": "r"} | {field: text}
    out = await attempt(input_db, "prune", SESSIONS, before=datetime.now(UTC), limit=2, **kw)
    check_refused(out, before_counts, field)


@pytest.mark.parametrize("operator", [0, False, []])
async def test_a_falsy_non_text_operator_is_refused(input_db: AsyncEngine, operator: Any) -> None:
    before_counts, _ = await baseline(input_db)
    out = await attempt(input_db, "prune", SESSIONS, before=datetime.now(UTC), limit=2,
                        operator=operator)
    check_refused(out, before_counts, "operator")


async def test_a_cutoff_before_year_1_utc_is_a_bad_cutoff(input_db: AsyncEngine) -> None:
    before_counts, _ = await baseline(input_db)
    early = datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    out = await attempt(input_db, "execute", SESSIONS, before=early, limit=5)
    check_refused(out, before_counts, "before")


async def test_cli_huge_older_than_is_a_usage_error(cli_url: str) -> None:
    for value in ("740000d", "999999w"):
        proc = await asyncio.to_thread(cli, "prune", "sessions", "--older-than", value, "--yes",
                                       url=cli_url)
        assert_clean_failure(proc, 2, "--older-than")


async def test_cli_a_failed_drain_says_why_on_stderr(
    read_only_url: str, input_db: AsyncEngine
) -> None:
    before = await baseline(input_db)
    proc = await asyncio.to_thread(cli, "drain", "sessions", "--older-than", "1d", "--yes",
                                   url=read_only_url)
    assert await baseline(input_db) == before
    assert_clean_failure(proc, 1, "permission denied")
