"""Standard libpq URL parameters (issue 12, case 11): translated to asyncpg's connect arguments
or refused with one line naming the parameter, tested against the real (non-SSL) test server."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from core import create_engine, errors
from core.db import connect_arguments
from core.db import database_url as checked_url
from tests.clirun import cli
from tests.factories import add_session

pytestmark = pytest.mark.timeout(300)


def with_params(url: str, params: str) -> str:
    return f"{url}?{params}"


@pytest.mark.parametrize("params", [
    "sslmode=disable", "sslmode=allow", "sslmode=prefer", "ssl=prefer",
    "connect_timeout=5", "connect_timeout=0",
    "application_name=pruner-cli-test",
    "options=" + quote("-c statement_timeout=1234 -c lock_timeout=99"),
    "target_session_attrs=any",
    "sslmode=prefer&connect_timeout=5&application_name=x",
])
async def test_parameters_that_work_on_this_server(db, database_url, params, tmp_path):
    await add_session(db, age_days=30)
    url = with_params(database_url, params)
    for argv in (["preview", "sessions", "--older-than", "7d", "--json"], ["history"],
                 ["prune", "sessions", "--older-than", "7d", "--dry-run"]):
        r = await cli(url, *argv, env={"HOME": str(tmp_path)})
        assert r.returncode == 0, (params, argv, r.stderr)


async def test_application_name_and_options_reach_the_server(database_url):
    url = with_params(database_url, "application_name=pruner-cli-test&options="
                      + quote("-c statement_timeout=1234 -c search_path=public"))
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            got = (await conn.execute(sa.text(
                "SELECT current_setting('application_name'), "
                "current_setting('statement_timeout'), current_setting('search_path')"))).one()
    finally:
        await engine.dispose()
    assert tuple(got) == ("pruner-cli-test", "1234ms", "public")


async def test_connect_timeout_becomes_asyncpg_timeout():
    base = "postgresql://u:p@h/db"
    assert connect_arguments(make_url(f"{base}?connect_timeout=7"))[1] == {"timeout": 7}
    assert connect_arguments(make_url(f"{base}?connect_timeout=0"))[1] == {"timeout": None}
    assert connect_arguments(make_url(f"{base}?sslmode=verify-full"))[1] == {
        "ssl": "verify-full"}
    target, args = connect_arguments(make_url(f"{base}?application_name=a&options=-c%20x%3D1"))
    assert args == {"server_settings": {"application_name": "a", "options": "-c x=1"}}
    assert not target.query


@pytest.mark.parametrize("params, says", [
    ("sslmode=require", "SSL"),  # this server has no SSL: one clear line, no traceback
    ("ssl=require", "SSL"),
    ("sslmode=verify-ca", "root certificate"),
    ("sslmode=verify-full", "root certificate"),
])
async def test_ssl_that_this_server_cannot_give_fails_in_one_line(
        db, database_url, pg_cluster, params, says, tmp_path):
    await add_session(db, age_days=30)
    r = await cli(with_params(database_url, params), "prune", "sessions", "--older-than", "7d",
                  "--yes", env={"HOME": str(tmp_path)})  # no ~/.postgresql/root.crt
    assert r.returncode == 1, r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("pruner: failed: ") and says in line
    assert "internal error" not in line and "Traceback" not in r.stderr
    assert pg_cluster.password not in r.stderr


@pytest.mark.parametrize("params, says", [
    ("sslmode=bogus", "sslmode='bogus' is not one of disable, allow, prefer, require"),
    ("connect_timeout=abc", "connect_timeout must be a whole number"),
    ("connect_timeout=-1", "connect_timeout must be at least 0"),
    ("sslrootcert=/no/such/root.crt", "sslrootcert: no such file"),
    ("keepalives=1", "parameter 'keepalives' is not supported"),
    ("foo=bar", "parameter 'foo' is not supported"),
    ("sslmode=require&ssl=disable", "both sslmode and ssl"),
    ("application_name=a&application_name=b", "given more than once"),
])
async def test_parameters_that_cannot_be_honoured_are_refused_by_name(
        db, database_url, params, says):
    await add_session(db, age_days=30)
    r = await cli(with_params(database_url, params), "prune", "sessions", "--older-than", "7d",
                  "--yes")
    assert r.returncode == 2, r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("pruner: error: ") and says in line
    with pytest.raises(errors.InvalidArgument):
        checked_url(with_params(database_url, params))


async def test_user_password_and_dbname_parameters_are_the_urls_own(database_url):
    url = make_url(database_url)
    moved = url.set(username=None, password=None, database=None, query={
        "user": url.username, "password": url.password, "dbname": url.database})
    engine = create_engine(moved.render_as_string(hide_password=False))
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(sa.text("SELECT current_database()"))).scalar() == \
                url.database
    finally:
        await engine.dispose()
