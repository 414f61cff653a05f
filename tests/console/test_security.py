"""The console's security model through AppTest: issue 12's cases 1-6 on a real page."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from streamlit.testing.v1 import AppTest

from console import access, accounts
from console.accounts import Account
from console.settings import DATABASE_URL_ENV, DEMO_ENV, PASSWORD_ENV, READ_ONLY_ENV
from console.state import Keys
from console.throttle import Throttle
from core import journal
from core.reference_schema import sessions
from tests.console.test_apptest import (
    APP,
    CONSOLE_PASSWORD,
    NO_SECRETS,
    OIDC,
    button,
    confirm,
    console,
    force_pending,
    metric,
    no_exceptions,
    open_prune_dialog,
    rendered,
    seed_sessions,
    texts,
)
from tests.factories import count

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # test accounts only


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def sign_in(at: AppTest, name: str, password: str) -> None:
    at.text_input(key=Keys.SIGN_IN_NAME).input(name)
    at.text_input(key=Keys.SIGN_IN_PASSWORD).input(password)
    at.button(key="sign_in.submit").click().run()
    no_exceptions(at)


def signed_in(at: AppTest) -> bool:
    return bool(at.metric) and not any(t.key == Keys.SIGN_IN_PASSWORD for t in at.text_input)


def errors_shown(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


@pytest.fixture
def users_file(console_env: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Accounts mode: alice may prune, rita may read, dora is disabled."""
    path = tmp_path / "users.toml"
    digest = accounts.hash_password(CONSOLE_PASSWORD, FAST)
    accounts.write_accounts(path, {"alice": Account("alice", "prune", digest),
                                   "rita": Account("rita", "read", digest),
                                   "dora": Account("dora", "prune", digest, disabled=True)})
    console_env.setenv("PRUNER_CONSOLE_USERS_FILE", str(path))
    console_env.delenv(DEMO_ENV)
    return path


@pytest.fixture
def clock(console_env: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    console_env.setattr(access, "THROTTLE", Throttle(clock=fake))
    return fake


# ------------------------------------------------------------------------------ 1. URL secrets
async def test_case1_a_query_parameter_password_is_never_rendered(
        db: AsyncEngine, console_env: Any, database_url: str) -> None:
    """Not signed in (no sign-in configured): the sidebar and the Database page show the URL."""
    console_env.delenv(DEMO_ENV)
    url = make_url(database_url)
    password = url.password
    assert password
    query_form = url.set(password=None).update_query_dict({"password": password})
    console_env.setenv(DATABASE_URL_ENV, query_form.render_as_string(hide_password=False))
    await seed_sessions(db, [300])
    at = console()
    no_exceptions(at)
    assert metric(at, "Candidates") == "1", "the console works on that URL"
    seen = [rendered(at)]
    at.switch_page("views/database.py").run()
    no_exceptions(at)
    seen.append(rendered(at))
    everything = "\n".join(seen)
    assert "password=***" in everything
    assert password not in everything


def test_case1_an_unencoded_at_in_the_password_is_refused(console_env: Any) -> None:
    console_env.setenv(DATABASE_URL_ENV, "postgresql://pruner:Hunter2@Tail-77@127.0.0.1/db")
    at = console()
    no_exceptions(at)
    assert any("unencoded '@'" in e for e in errors_shown(at))
    shown = rendered(at)
    assert "Hunter2" not in shown and "Tail-77" not in shown


# ------------------------------------------------------------------------------ 2. placeholders
def test_case2_a_placeholder_password_stops_the_console(console_env: Any) -> None:
    console_env.delenv(DEMO_ENV)
    at = console({"console": {"password": "CHANGE-ME"}})
    no_exceptions(at)
    assert any("placeholder" in e for e in errors_shown(at)), errors_shown(at)
    assert not at.metric and not at.text_input, "neither the console nor a sign-in form"


def test_case2_the_environment_password_wins(db: AsyncEngine, console_env: Any) -> None:
    console_env.delenv(DEMO_ENV)
    console_env.setenv(PASSWORD_ENV, CONSOLE_PASSWORD)
    at = console({"console": {"password": "the-secrets-file-password"}})
    sign_in(at, "carol", "the-secrets-file-password")
    assert errors_shown(at) == ["Wrong password."]
    sign_in(at, "carol", CONSOLE_PASSWORD)
    assert signed_in(at)


# ------------------------------------------------------------------------------ 3. guessing
async def test_case3_sign_in_right_wrong_throttled_locked(
        db: AsyncEngine, users_file: Path, clock: Clock,
        caplog: pytest.LogCaptureFixture) -> None:
    await seed_sessions(db, [300])
    at = console()
    with caplog.at_level(logging.INFO, logger="pruner.console.auth"):
        for _ in range(3):  # free failures
            sign_in(at, "alice", "wrong guess")
            assert errors_shown(at) == ["Wrong account name or password."]
        sign_in(at, "alice", "wrong guess")  # the 4th: from now on a growing delay
        sign_in(at, "alice", CONSOLE_PASSWORD)
        assert errors_shown(at) == ["Too many failed sign-ins: wait 2 seconds and try again."]
        assert not signed_in(at), "not even the right password while throttled"
        for _ in range(6):  # failures 5-10, each after its wait
            clock.now += 61
            sign_in(at, "alice", "wrong guess")
        sign_in(at, "alice", CONSOLE_PASSWORD)
        assert errors_shown(at) == [
            "Sign-in is locked after too many failed attempts: try again in 15 minutes."]
        assert not signed_in(at)
        clock.now += 15 * 60
        sign_in(at, "alice", CONSOLE_PASSWORD)
    assert signed_in(at)
    logged = [r.getMessage() for r in caplog.records]
    assert sum("sign-in failed: wrong password for alice" in m for m in logged) == 10
    assert sum("refused without checking: alice" in m for m in logged) == 2
    assert any("console sign-in: account:alice (accounts)" in m for m in logged)
    assert not any("wrong guess" in m or CONSOLE_PASSWORD in m for m in logged)

    open_prune_dialog(at, 1)  # case 5: the journal names the verified account
    confirm(at)
    assert [r.operator for r in await journal.history(db)] == ["account:alice"]


def test_case3_unknown_and_disabled_accounts_get_the_same_answer(users_file: Path) -> None:
    at = console()
    for name in ("mallory", "dora"):
        sign_in(at, name, CONSOLE_PASSWORD)
        assert errors_shown(at) == ["Wrong account name or password."]
        assert not signed_in(at)


# ------------------------------------------------------------------------------ 4. OIDC
def oidc_console(user: dict[str, Any]) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets.update(OIDC)
    at.user = {"is_logged_in": True, **user}
    at.run()
    no_exceptions(at)
    return at


@pytest.mark.parametrize("user, why", [
    ({"email": "bob@example.com", "email_verified": False}, "has not verified"),
    ({"email": "bob@example.com"}, "has not verified"),
    ({"email": "eve@evil.example", "email_verified": True}, "not on the console's allow-list"),
])
async def test_case4_oidc_refuses_who_is_not_allowed(db: AsyncEngine, console_env: Any,
                                                     user: dict[str, Any], why: str) -> None:
    console_env.delenv(DEMO_ENV)
    await seed_sessions(db, [300])
    at = oidc_console(user)
    assert any(why in e for e in errors_shown(at)), errors_shown(at)
    assert not at.metric, "nothing of the console"
    assert [b.label for b in at.button] == ["Log out"]


async def test_case4_oidc_roles(db: AsyncEngine, console_env: Any) -> None:
    console_env.delenv(DEMO_ENV)
    await seed_sessions(db, [300, 250])
    reader = oidc_console({"email": "dev@example.com", "email_verified": True})
    assert metric(reader, "Candidates") == "2"
    assert "Your role is 'read'" in texts(reader)
    assert button(reader, "Prune 2 oldest").disabled is True
    force_pending(reader)
    assert any("preview and history only" in e for e in errors_shown(reader)), "enforced"
    assert await count(db, sessions) == 2

    operator = oidc_console({"email": "bob@example.com", "email_verified": "true"})
    open_prune_dialog(operator, 1)
    confirm(operator)
    no_exceptions(operator)
    assert [r.operator for r in await journal.history(db)] == ["oidc:bob@example.com"]


# ------------------------------------------------------------------------------ 5. who
async def test_case5_the_journal_names_each_mode(db: AsyncEngine, console_env: Any) -> None:
    """Demo and OIDC are covered above and in test_apptest; here: shared password, and a role
    or account change taking effect at the next click."""
    console_env.delenv(DEMO_ENV)
    await seed_sessions(db, [300, 250])
    at = console({"console": {"password": CONSOLE_PASSWORD}})
    assert "shared-password:<your name>" in texts(at), "the form says how runs are journaled"
    sign_in(at, "Carol Ops", CONSOLE_PASSWORD)
    open_prune_dialog(at, 1)
    assert "Operator: **shared-password:Carol Ops**" in texts(at)
    confirm(at)
    assert [r.operator for r in await journal.history(db)] == ["shared-password:Carol Ops"]


def test_case5_a_read_account_and_a_disabled_one(users_file: Path) -> None:
    at = console()
    sign_in(at, "rita", CONSOLE_PASSWORD)
    assert signed_in(at)
    assert "account:rita" in texts(at) and "Your role is 'read'" in texts(at)
    force_pending(at)
    assert any("preview and history only" in e for e in errors_shown(at))

    known = accounts.load_accounts(users_file)
    known["rita"] = Account("rita", "read", known["rita"].password_hash, disabled=True)
    accounts.write_accounts(users_file, known)
    at.run()
    assert not signed_in(at), "disabling an account ends its session at the next click"


# ------------------------------------------------------------------------------ 6. fail closed
@pytest.mark.parametrize("how, value", [("env", "enabled"), ("env", "Y"), ("env", "2"),
                                        ("secret", "enabled")])
async def test_case6_read_only_parses_strictly(db: AsyncEngine, console_env: Any, how: str,
                                               value: str) -> None:
    await seed_sessions(db, [300])
    secrets = NO_SECRETS
    if how == "env":
        console_env.setenv(READ_ONLY_ENV, value)
    else:
        secrets = {"console": {"read_only": value}}
    at = console(secrets)
    no_exceptions(at)
    assert any("read_only must be one of" in e.replace("PRUNER_READ_ONLY", "read_only")
               for e in errors_shown(at)), errors_shown(at)
    assert not at.metric and not at.button, "the console stops: nothing to click"
    assert await count(db, sessions) == 1
