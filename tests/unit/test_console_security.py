"""The console's security model without Streamlit: issue 12's cases 1-6, one section each."""

from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from console import access
from console.access import attempt_sign_in, decide, oidc_role
from console.accounts import Account, hash_password
from console.context import scrub
from console.settings import (
    MODE_ACCOUNTS,
    MODE_DEMO,
    MODE_NONE,
    MODE_OIDC,
    MODE_SHARED,
    ConsoleSettings,
    OidcPolicy,
    load_settings,
)
from console.throttle import Throttle
from core import errors

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # test accounts only
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "0f8c6d1e2b7a4f3e9d5c8b1a6e2f7d4c", "client_id": "c",
        "client_secret": "5d2c8e1f-client-secret",
        "server_metadata_url": "https://example.invalid/.well-known"}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def accounts_settings(**users: str) -> ConsoleSettings:
    return ConsoleSettings(accounts={name: Account(name, role, hash_password(PASSWORD, FAST))
                                     for name, role in users.items()})


# ------------------------------------------------------------------------------ 1. URL secrets
def test_case1_scrub_hides_a_query_parameter_password() -> None:
    settings = load_settings(
        {"PRUNER_DATABASE_URL": "postgresql://admin@db.internal/backend?password=Qp-9x7-Zz"}, {})
    assert "Qp-9x7-Zz" in settings.secrets_to_hide
    message = scrub("connecting to the database failed: password Qp-9x7-Zz rejected", settings)
    assert "Qp-9x7-Zz" not in message and "***" in message


def test_case1_scrub_hides_the_tail_after_an_unencoded_at() -> None:
    # load_settings refuses such a URL (below); scrub still copes with one, as defence in depth
    settings = ConsoleSettings(database_url="postgresql://admin:Hunter2@Tail-77@db.internal/b")
    for message in ("could not translate host name \"Tail-77@db.internal\"",
                    "failed: postgresql://admin:Hunter2@Tail-77@db.internal/b unreachable",
                    "password Hunter2@Tail-77 rejected"):
        shown = scrub(message, settings)
        assert "Tail-77" not in shown and "Hunter2" not in shown, shown


def test_case1_scrub_redacts_any_url_in_a_message() -> None:
    shown = scrub("cannot reach postgresql://u@h/db?sslpassword=k3y-V4lue-1 (timeout)", None)
    assert shown == "cannot reach postgresql://u@h/db?sslpassword=*** (timeout)"


def test_case1_an_unexpected_error_is_logged_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    from console.context import show_error

    url = "postgresql://admin@db.internal/backend?password=Qp-9x7-Zz"
    settings = load_settings({"PRUNER_DATABASE_URL": url}, {})
    try:
        raise RuntimeError(f"boom on {url} with Qp-9x7-Zz")
    except RuntimeError as exc:
        with caplog.at_level(logging.ERROR, logger="pruner.console"):
            show_error(exc, settings)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError: boom on postgresql://admin@db.internal/backend?password=***" in logged
    assert "Traceback" in logged and "Qp-9x7-Zz" not in logged
    assert not any(r.exc_info for r in caplog.records), "no unscrubbed traceback either"


def test_case1_a_password_with_an_unencoded_at_is_refused() -> None:
    with pytest.raises(errors.InvalidArgument, match="unencoded '@'") as refused:
        load_settings({"PRUNER_DATABASE_URL": "postgresql://admin:Hunter2@Tail@db/b"}, {})
    assert "Hunter2" not in str(refused.value) and "Tail" not in str(refused.value)
    with pytest.raises(errors.InvalidArgument, match="not a valid URL"):
        load_settings({"PRUNER_DATABASE_URL": "postgresql://admin:Hun@ter:2x@db/b"}, {})


# ------------------------------------------------------------------------------ 2. placeholders
EXAMPLE = (ROOT / ".streamlit" / "secrets.example.toml").read_text()
REAL_URL = "postgresql://pruner_admin:Xk2-real-pw@db.internal/backend"


def uncomment(text: str, from_line: str, to_line: str | None = None) -> str:
    """The example with its commented-out settings between two lines turned on."""
    head, sep, tail = text.partition(from_line)
    body, sep2, rest = tail.partition(to_line) if to_line else (tail, "", "")
    body = re.sub(r"(?m)^# (\[[\w.]+\]|\w+ = .*)$", r"\1", sep + body)
    return head + body + sep2 + rest


def test_case2_the_environment_password_beats_the_secrets_file() -> None:
    secrets = {"console": {"password": "the-secrets-file-password"}}
    settings = load_settings({"PRUNER_CONSOLE_PASSWORD": PASSWORD}, secrets)
    assert settings.console_password == PASSWORD


def test_case2_the_example_secrets_file_is_refused_as_it_is() -> None:
    with pytest.raises(errors.InvalidArgument, match="database URL's password is a placeholder"):
        load_settings({}, tomllib.loads(EXAMPLE))
    env = {"PRUNER_DATABASE_URL": REAL_URL}
    assert load_settings(env, tomllib.loads(EXAMPLE)).sign_in == MODE_NONE
    with_password = uncomment(EXAMPLE, "# password =", "\n")
    assert '\npassword = "CHANGE-ME"' in with_password
    with pytest.raises(errors.InvalidArgument, match=r"\[console\] password .*placeholder"):
        load_settings(env, tomllib.loads(with_password))
    with_oidc = tomllib.loads(uncomment(EXAMPLE, "# [auth]"))
    assert with_oidc["console"]["oidc"]["prune_groups"] == ["pruner-operators"]
    with pytest.raises(errors.InvalidArgument, match="cookie_secret is a placeholder"):
        load_settings(env, with_oidc)
    with_oidc["auth"].update(cookie_secret="9" + "f1e2d3c4b5a6" * 4, client_secret="from-idp-77")
    assert load_settings(env, with_oidc).sign_in == MODE_OIDC


@pytest.mark.parametrize("env, secrets, refused", [
    ({}, {"console": {"password": "CHANGE-ME"}}, r"\[console\] password.*placeholder"),
    ({"PRUNER_CONSOLE_PASSWORD": "change-me"}, {}, "PRUNER_CONSOLE_PASSWORD is a placeholder"),
    ({}, {"console": {"password": ""}}, "empty"),
    ({}, {"console": {"password": "short-pw"}}, "too short"),
    ({"PRUNER_DATABASE_URL": "postgresql://pruner_admin:CHANGE-ME@db/backend"}, {},
     "database URL's password is a placeholder"),
    ({"PRUNER_DATABASE_URL": "postgresql://pruner_admin@db/backend?password=changeme"}, {},
     "database URL's password is a placeholder"),
    ({}, {"auth": {**AUTH, "cookie_secret": "a-long-random-string"},
          "console": {"oidc": {"prune_emails": ["a@b.c"]}}}, "cookie_secret is a placeholder"),
    ({}, {"auth": {**AUTH, "client_secret": "..."},
          "console": {"oidc": {"prune_emails": ["a@b.c"]}}}, "client_secret is a placeholder"),
    ({}, {"auth": {**AUTH, "cookie_secret": "too-short-7c1d"},
          "console": {"oidc": {"prune_emails": ["a@b.c"]}}}, "cookie_secret is too short"),
])
def test_case2_placeholders_and_empty_passwords_are_refused(
        env: dict[str, str], secrets: dict[str, Any], refused: str) -> None:
    with pytest.raises(errors.InvalidArgument, match=refused):
        load_settings(env, secrets)


def test_case2_one_precedence_rule(tmp_path: Path) -> None:
    """Environment over secrets file; safety switches only tighten."""
    env_users, file_users = tmp_path / "env.toml", tmp_path / "file.toml"
    env_users.write_text("")
    secrets = {"database": {"url": "postgresql://file/db"},
               "console": {"read_only": False, "confirm_above": 50,
                           "users_file": str(file_users)}}
    env = {"PRUNER_DATABASE_URL": "postgresql://env/db", "PRUNER_READ_ONLY": "1",
           "PRUNER_CONFIRM_ABOVE": "500", "PRUNER_CONSOLE_USERS_FILE": str(env_users)}
    s = load_settings(env, secrets)
    assert s.database_url == "postgresql://env/db"
    assert s.users_file == env_users
    assert s.read_only, "either source turns read-only on"
    assert s.confirm_above == 50, "the lower threshold of the two"
    s = load_settings({"PRUNER_READ_ONLY": "0", "PRUNER_CONFIRM_ABOVE": "5"},
                      {"console": {"read_only": True, "confirm_above": 50}})
    assert s.read_only and s.confirm_above == 5
    blank = load_settings({"PRUNER_DATABASE_URL": " ", "PRUNER_CONSOLE_PASSWORD": ""},
                          {"database": {"url": "postgresql://file/db"}})
    assert blank.database_url == "postgresql://file/db", "a blank variable counts as unset"
    assert blank.console_password is None


def test_case2_one_way_to_sign_in(tmp_path: Path) -> None:
    users = tmp_path / "users.toml"
    users.write_text("")
    oidc = {"auth": AUTH, "console": {"oidc": {"prune_domains": ["example.com"]}}}
    assert load_settings({}, oidc).sign_in == MODE_OIDC
    assert load_settings({"PRUNER_CONSOLE_USERS_FILE": str(users)}, {}).sign_in == MODE_ACCOUNTS
    assert load_settings({"PRUNER_CONSOLE_PASSWORD": PASSWORD}, {}).sign_in == MODE_SHARED
    assert load_settings({"PRUNER_DEMO": "1"}, {}).sign_in == MODE_DEMO
    assert load_settings({}, {}, cwd=tmp_path).sign_in == MODE_NONE
    with pytest.raises(errors.InvalidArgument, match="one way to sign in"):
        load_settings({"PRUNER_CONSOLE_USERS_FILE": str(users),
                       "PRUNER_CONSOLE_PASSWORD": PASSWORD}, {})
    with pytest.raises(errors.InvalidArgument, match="one way to sign in"):
        load_settings({"PRUNER_CONSOLE_PASSWORD": PASSWORD}, oidc)
    with pytest.raises(errors.InvalidArgument, match="does not exist"):
        load_settings({"PRUNER_CONSOLE_USERS_FILE": str(tmp_path / "missing.toml")}, {})
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "pruner-users.toml").write_text("")
    assert load_settings({}, {}, cwd=tmp_path).sign_in == MODE_ACCOUNTS, "the default file"


# ------------------------------------------------------------------------------ 3. guessing
def test_case3_a_thousand_guesses_are_throttled_then_locked(
        caplog: pytest.LogCaptureFixture) -> None:
    """The issue's attack: 15 guesses/s over 4 connections. Almost none is even checked, the
    right password does not get in meanwhile, and a sustained attack locks the account."""
    clock = Clock()
    throttle = Throttle(clock=clock)
    settings = accounts_settings(alice="prune")

    def guess(n: int, every: float) -> int:
        checked = 0
        for i in range(n):
            clock.now += every
            attempt = attempt_sign_in(settings, "alice", f"guess-{i}", f"10.0.0.{i % 4}",
                                      throttle)
            assert attempt.name is None
            checked += attempt.checked
        return checked

    with caplog.at_level(logging.WARNING, logger="pruner.console.auth"):
        checked = guess(1_000, 1 / 15)  # 67 seconds
        assert checked <= 9, f"{checked} of 1,000 guesses were checked against the hash"
        right = attempt_sign_in(settings, "alice", PASSWORD, "10.0.0.9", throttle)
        assert right.name is None and not right.checked and "wait" in (right.error or "")
        checked += guess(3_600, 1.0)  # an hour more, one guess a second
        assert checked <= 10 + 4, "then one guess per 15-minute lockout"
        right = attempt_sign_in(settings, "alice", PASSWORD, "10.0.0.9", throttle)
        assert right.name is None and "locked" in (right.error or "")
    assert len(caplog.records) == 1_000 + 3_600 + 2, "every failed or refused attempt is logged"
    assert not any("guess-" in r.getMessage() for r in caplog.records)
    clock.now += 15 * 60 + 1
    assert attempt_sign_in(settings, "alice", PASSWORD, "10.0.0.9", throttle).name == "alice"


def test_case3_delays_grow_per_client_and_per_account(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    throttle = Throttle(clock=clock)
    settings = accounts_settings(alice="prune", bob="prune")
    for _ in range(4):
        attempt_sign_in(settings, "alice", "wrong", "10.0.0.1", throttle)
    waiting = attempt_sign_in(settings, "alice", PASSWORD, "10.0.0.2", throttle)
    assert "wait 2 seconds" in (waiting.error or ""), "the account waits, whatever the client"
    assert not waiting.checked
    assert "wait 2 seconds" in (attempt_sign_in(settings, "bob", PASSWORD, "10.0.0.1",
                                                throttle).error or ""), "so does the client"
    clock.now += 2
    assert attempt_sign_in(settings, "alice", PASSWORD, "10.0.0.2", throttle).name == "alice"
    # unknown names share one key: they cannot grow the table or dodge the count
    for name in ("x1", "x2", "x3", "x4"):
        attempt_sign_in(settings, name, "wrong", f"10.9.0.{name}", throttle)
    assert throttle.failures(access.UNKNOWN_KEY) == 4


def test_case3_failures_are_logged_without_the_password(caplog: pytest.LogCaptureFixture,
                                                        ) -> None:
    settings = ConsoleSettings(console_password=PASSWORD)
    with caplog.at_level(logging.INFO, logger="pruner.console.auth"):
        attempt_sign_in(settings, "carol", "my-Secret-guess", "10.0.0.1", Throttle())
        attempt_sign_in(settings, "carol", PASSWORD, "10.0.0.1", Throttle())
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "sign-in failed: wrong password for (shared password), client:10.0.0.1" in logged
    assert "sign-in: shared-password:carol" in logged
    assert "my-Secret-guess" not in logged and PASSWORD not in logged


# ------------------------------------------------------------------------------ 4. OIDC
POLICY = OidcPolicy(prune_emails=frozenset({"ops@example.com"}),
                    prune_groups=frozenset({"pruner-operators"}),
                    read_domains=frozenset({"example.com"}), groups_claim="roles")


@pytest.mark.parametrize("claims, role", [
    ({"email": "ops@example.com", "email_verified": True}, "prune"),
    ({"email": "OPS@Example.com", "email_verified": "true"}, "prune"),
    ({"email": "dev@example.com", "email_verified": True}, "read"),
    ({"email": "dev@example.com", "email_verified": True, "roles": ["pruner-operators"]},
     "prune"),
    ({"email": "x@other.org", "email_verified": True, "roles": "pruner-operators"}, "prune"),
    ({"email": "ops@example.com", "email_verified": False}, None),
    ({"email": "ops@example.com"}, None),  # email_verified missing: not verified
    ({"email": "x@other.org", "email_verified": True}, None),
    ({"email": "x@sub.example.com", "email_verified": True}, None),  # domains match exactly
    ({"sub": "123", "email_verified": True}, None),
])
def test_case4_oidc_needs_a_verified_email_on_the_allow_list(claims: dict[str, Any],
                                                             role: str | None) -> None:
    assert oidc_role(claims, POLICY)[0] == role


def test_case4_oidc_without_an_allow_list_is_refused() -> None:
    with pytest.raises(errors.InvalidArgument, match="allows nobody"):
        load_settings({}, {"auth": AUTH})
    with pytest.raises(errors.InvalidArgument, match="list of strings"):
        load_settings({}, {"auth": AUTH, "console": {"oidc": {"prune_emails": "a@b.c"}}})


def test_case4_the_read_role_may_not_prune() -> None:
    settings = ConsoleSettings()
    assert decide(settings, "oidc:a@b.c", "prune").can_prune
    read = decide(settings, "oidc:a@b.c", "read")
    assert not read.can_prune and "read" in (read.notice or "")


# ------------------------------------------------------------------------------ 5. who
def test_case5_operator_names_say_how_they_signed_in() -> None:
    shared = ConsoleSettings(console_password=PASSWORD)
    attempt = attempt_sign_in(shared, " Carol ", PASSWORD, "local", Throttle())
    assert attempt.name == "Carol"
    assert access._operator(shared, "Carol") == "shared-password:Carol"
    assert attempt_sign_in(shared, "[x](http://e)", PASSWORD, "local", Throttle()).name is None
    accounts = accounts_settings(alice="prune")
    assert attempt_sign_in(accounts, " Alice ", PASSWORD, "local", Throttle()).name == "alice"
    assert access._operator(accounts, "alice") == "account:alice"
    assert attempt_sign_in(accounts, "mallory", PASSWORD, "local", Throttle()).name is None


# ------------------------------------------------------------------------------ 6. fail closed
@pytest.mark.parametrize("value", ["enabled", "Y", "2", "nope", "read-only", "truee"])
def test_case6_flags_parse_strictly(value: str) -> None:
    with pytest.raises(errors.InvalidArgument, match="PRUNER_READ_ONLY must be one of"):
        load_settings({"PRUNER_READ_ONLY": value}, {})
    with pytest.raises(errors.InvalidArgument, match=r"\[console\] read_only must be one of"):
        load_settings({}, {"console": {"read_only": value}})
    with pytest.raises(errors.InvalidArgument, match="PRUNER_DEMO must be one of"):
        load_settings({"PRUNER_DEMO": value}, {})


@pytest.mark.parametrize("value, on", [("1", True), ("true", True), ("YES", True), ("on", True),
                                       ("0", False), ("false", False), ("off", False),
                                       ("", False)])
def test_case6_the_documented_flag_values(value: str, on: bool) -> None:
    assert load_settings({"PRUNER_READ_ONLY": value}, {}).read_only is on


def test_case3_sign_in_events_reach_the_server_log_by_default(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a logging configuration of the deployment's own, the console adds one handler
    (stderr, INFO) so that failures and sign-ins are in the server log; never twice."""
    import console.context as context

    root, console_log = logging.getLogger(), logging.getLogger("pruner.console")
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(console_log, "handlers", [])
    monkeypatch.setattr(console_log, "level", logging.NOTSET)
    context.configure_logging()
    context.configure_logging()
    assert len(console_log.handlers) == 1
    assert logging.getLogger("pruner.console.auth").getEffectiveLevel() == logging.INFO
