"""core.db.redact: the one redaction of database URLs (issue 12, case 1)."""

from __future__ import annotations

import pytest

from core.db import HIDDEN, redact

SECRET = "Hunter2-Secret"


@pytest.mark.parametrize("url, shown", [
    # the plain form
    (f"postgresql://admin:{SECRET}@db.internal:5432/backend",
     "postgresql://admin:***@db.internal:5432/backend"),
    (f"postgresql+asyncpg://admin:{SECRET}@db.internal/backend?sslmode=require",
     "postgresql+asyncpg://admin:***@db.internal/backend?sslmode=require"),
    # percent-encoded characters in the password
    ("postgresql://admin:Hunter2%40Secret@db.internal/backend",
     "postgresql://admin:***@db.internal/backend"),
    # the password as a query parameter: valid for SQLAlchemy and asyncpg (the case)
    (f"postgresql://admin@db.internal/backend?password={SECRET}",
     "postgresql://admin@db.internal/backend?password=***"),
    (f"postgresql:///backend?host=/run/postgresql&user=admin&password={SECRET}",
     "postgresql:///backend?host=/run/postgresql&user=admin&password=***"),
    # a repeated, percent-encoded or other secret parameter
    (f"postgresql://h/db?password={SECRET}&password=x{SECRET}",
     "postgresql://h/db?password=***&password=***"),
    (f"postgresql://h/db?PASS%57ORD={SECRET}&sslmode=require",
     "postgresql://h/db?PASS%57ORD=***&sslmode=require"),
    (f"postgresql://h/db?sslpassword={SECRET}&passfile=/home/x/.pgpass",
     "postgresql://h/db?sslpassword=***&passfile=***"),
    # both at once, on IPv6 and on several hosts
    (f"postgresql://admin:{SECRET}@[::1]:5432/backend?password={SECRET}",
     "postgresql://admin:***@[::1]:5432/backend?password=***"),
    (f"postgresql://admin:{SECRET}@h1:5432,h2:5433/backend",
     "postgresql://admin:***@h1:5432,h2:5433/backend"),
    # an unencoded '@' in the password: its tail must not show as the host (the case)
    ("postgresql://admin:Hunter2@Secret@db.internal/backend",
     "postgresql://admin:***@db.internal/backend"),
    ("postgresql://admin:Hun@ter2@Sec@db.internal/backend",
     "postgresql://admin:***@db.internal/backend"),
    # other unencoded delimiters in the password
    ("postgresql://admin:Hunter2/Secret@db.internal/backend",
     "postgresql://admin:***@db.internal/backend"),
    ("postgresql://admin:Hunter2?Secret@db.internal/backend",
     "postgresql://admin:***@db.internal/backend"),
    ("postgresql://admin:Hunter2:Secret@db.internal/backend",
     "postgresql://admin:***@db.internal/backend"),
    ("postgresql://admin:Hunter2#Secret@db.internal/backend",
     "postgresql://admin:***@db.internal/backend"),
    # where the password ends cannot be told: everything after the user name is hidden
    ("postgresql://admin:Hunter2@Sec?ret=1@db.internal/backend", f"postgresql://admin:***@{HIDDEN}"),
    # no password at all: nothing to hide, an '@' in a parameter is shown
    ("postgresql://admin@db.internal/backend?application_name=me@x",
     "postgresql://admin@db.internal/backend?application_name=me@x"),
    ("postgresql://db.internal/backend", "postgresql://db.internal/backend"),
    # a fragment is never shown
    (f"postgresql://admin:{SECRET}@h/db#{SECRET}", "postgresql://admin:***@h/db#***"),
    # not a URL at all
    ("not a url", HIDDEN),
    (f"admin:{SECRET}@db.internal/backend", HIDDEN),
    ("", HIDDEN),
])
def test_redact_every_url_form(url: str, shown: str) -> None:
    assert redact(url) == shown
    for part in ("Hunter2", "Secret", "Sec", "ret"):
        assert part not in shown


def test_redact_never_shows_what_sqlalchemy_reads_as_the_password() -> None:
    # SQLAlchemy reads `localhost:5432/db?user=a` as a password here: it is masked.
    assert redact("postgresql://localhost:5432/db?user=a@b") == "postgresql://localhost:***@b"
    # A one-character password shown as the database name: everything is hidden.
    assert redact("postgresql://u:x@h/x") == f"postgresql://{HIDDEN}"
    # A short password that happens to be inside a parameter name is no leak.
    assert redact("postgresql:///db?password=p") == "postgresql:///db?password=***"

