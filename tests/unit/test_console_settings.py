"""Console configuration and access policy, without Streamlit."""

from __future__ import annotations

import pytest

from console.access import DEMO_OPERATOR, decide, password_matches
from console.actions import Confirmation, NotAllowed, Plan, PruneRequest, check_confirmation
from console.settings import DEFAULT_CONFIRM_ABOVE, load_settings
from core import errors
from tests.factories import days_ago

URL = "postgresql://admin:hunter2-pw@db.internal:5432/backend"
AUTH = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback",
                 "cookie_secret": "0f8c6d1e2b7a4f3e9d5c8b1a6e2f7d4c", "client_id": "c",
                 "client_secret": "5d2c8e1f-client-secret",
                 "server_metadata_url": "https://example.invalid/.well-known"}}


def test_environment_wins_over_secrets() -> None:
    s = load_settings({"PRUNER_DATABASE_URL": URL},
                      {"database": {"url": "postgresql://other/db"}})
    assert s.database_url == URL
    assert load_settings({}, {"database": {"url": URL}}).database_url == URL
    assert load_settings({}, {}).database_url is None


def test_read_only_only_tightens() -> None:
    assert load_settings({"PRUNER_READ_ONLY": "1"}, {"console": {"read_only": False}}).read_only
    assert load_settings({"PRUNER_READ_ONLY": "0"}, {"console": {"read_only": True}}).read_only
    assert not load_settings({}, {}).read_only


def test_password_sources_and_oidc() -> None:
    a, b = "a-long-enough-password", "b-long-enough-password"
    assert load_settings({}, {"console": {"password": a}}).console_password == a
    assert load_settings({"PRUNER_CONSOLE_PASSWORD": b}, {}).console_password == b
    assert load_settings({}, {}).console_password is None
    assert load_settings({}, {**AUTH, "console": {"oidc": {"prune_emails": ["x@y.z"]}}}).oidc


def test_confirm_threshold() -> None:
    assert load_settings({}, {}).confirm_above == DEFAULT_CONFIRM_ABOVE
    assert load_settings({"PRUNER_CONFIRM_ABOVE": "10"}, {}).confirm_above == 10
    assert load_settings({}, {"console": {"confirm_above": 0}}).confirm_above == 0
    with pytest.raises(errors.InvalidArgument):
        load_settings({"PRUNER_CONFIRM_ABOVE": "-1"}, {})


def test_repr_and_hidden_strings_never_leak() -> None:
    s = load_settings({"PRUNER_DATABASE_URL": URL}, {"console": {"password": "pw-42-and-more"}})
    assert "hunter2" not in repr(s) and "pw-42" not in repr(s)
    assert set(s.secrets_to_hide) == {"hunter2-pw", "pw-42-and-more"}


def test_access_policy() -> None:
    demo = load_settings({"PRUNER_DEMO": "1"}, {})
    assert decide(demo, DEMO_OPERATOR).can_prune
    plain = load_settings({}, {})
    assert not decide(plain, None).can_prune
    assert "No sign-in is configured" in (decide(plain, None).notice or "")
    read_only = load_settings({"PRUNER_READ_ONLY": "true"}, {})
    assert not decide(read_only, "alice@console").can_prune
    assert password_matches("s3cret", "s3cret") and not password_matches("s3cret", "s3cre")


def plan(rows: int) -> Plan:
    return Plan(PruneRequest("oldest", "sessions", days_ago(90), 5_000), rows=rows,
                per_table={"sessions": rows})


def test_confirmation_rules() -> None:
    check_confirmation(plan(10), Confirmation("ticket 1"), confirm_above=10)
    with pytest.raises(NotAllowed, match="reason"):
        check_confirmation(plan(10), Confirmation("  "), confirm_above=10)
    with pytest.raises(NotAllowed, match="Type the entity name"):
        check_confirmation(plan(11), Confirmation("ticket 1", "Sessions"), confirm_above=10)
    check_confirmation(plan(11), Confirmation("ticket 1", " sessions "), confirm_above=10)
    with pytest.raises(NotAllowed, match="Nothing to delete"):
        check_confirmation(plan(0), Confirmation("ticket 1"), confirm_above=10)
