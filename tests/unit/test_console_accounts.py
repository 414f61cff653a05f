"""Operator accounts: argon2 hashes in a TOML file, `pruner console users`, placeholders."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest

from console import accounts, launcher
from console.accounts import Account, check_secret, hash_password, is_placeholder, verify
from core import errors
from core.cli import main as pruner_main

GOOD = "correct horse battery staple"


# ------------------------------------------------------------------------------ secrets policy
@pytest.mark.parametrize("value", [
    "CHANGE-ME", "change-me", "changeme", "Change Me!", "CHANGE-ME-PLEASE", "REPLACE_ME",
    "password", "secret", "...", "***", "xxxxxxxxxxxx", "000000000000", "<password>",
    "a-long-random-string", "", "   ",
])
def test_placeholders_are_recognised(value: str) -> None:
    assert is_placeholder(value)
    with pytest.raises(errors.InvalidArgument, match="placeholder|empty") as refused:
        check_secret(value, "the console password")
    assert "the console password" in str(refused.value)


def test_real_secrets_pass_and_short_ones_do_not() -> None:
    assert not is_placeholder(GOOD)
    assert check_secret(GOOD, "x") == GOOD
    with pytest.raises(errors.InvalidArgument, match="too short") as refused:
        check_secret("s3cr3t-pw", "the password")
    assert "s3cr3t-pw" not in str(refused.value), "a message never repeats the secret"


# ------------------------------------------------------------------------------ hashing
def test_argon2_hash_and_verify() -> None:
    digest = hash_password(GOOD)
    assert digest.startswith("$argon2id$") and GOOD not in digest
    users = {"alice": Account("alice", "prune", digest),
             "bob": Account("bob", "read", hash_password(GOOD), disabled=True)}
    assert verify(users, "alice", GOOD) == users["alice"]
    assert verify(users, "alice", GOOD + " ") is None
    assert verify(users, "bob", GOOD) is None, "a disabled account cannot sign in"
    assert verify(users, "carol", GOOD) is None
    assert GOOD not in repr(users["alice"]) and digest not in repr(users["alice"])


# ------------------------------------------------------------------------------ the file
def test_users_file_round_trip_private_and_without_passwords(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "users.toml"
    users = {"alice": Account("alice", "prune", hash_password(GOOD)),
             "ops.bot-1": Account("ops.bot-1", "read", hash_password(GOOD), True)}
    accounts.write_accounts(path, users)
    assert accounts.load_accounts(path) == users
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert GOOD not in path.read_text()
    assert accounts.load_accounts(tmp_path / "missing.toml") == {}


@pytest.mark.parametrize("text, error", [
    ("[users.alice\n", "not valid TOML"),
    ('[users.alice]\nrole = "admin"\nhash = "$argon2id$x"\n', "role must be one of"),
    ('[users.alice]\nrole = "prune"\nhash = "plain-text"\n', "argon2 hash"),
    ('[users.alice]\nrole = "prune"\nhash = "$argon2id$x"\ndisabled = "no"\n', "true or false"),
    ('[users."Bad Name"]\nrole = "prune"\nhash = "$argon2id$x"\n', "not a valid account name"),
])
def test_a_broken_users_file_is_refused(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "users.toml"
    path.write_text(text)
    with pytest.raises(errors.InvalidArgument, match=error):
        accounts.load_accounts(path)


# ------------------------------------------------------------------------------ the command
def users(tmp_path: Path, *argv: str, password: str = "") -> tuple[int, str]:
    out = io.StringIO()
    code = launcher.users_main(["--file", str(tmp_path / "u.toml"), *argv], env={},
                               project_root=tmp_path, stdin=io.StringIO(password + "\n"),
                               out=out)
    return code, out.getvalue()


def test_users_add_list_disable_enable(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       ) -> None:
    assert users(tmp_path, "add", "Alice", "--role", "prune", "--password-stdin",
                 password=GOOD)[0] == 0
    assert users(tmp_path, "add", "bob", "--role", "read", "--password-stdin",
                 password=GOOD + "!")[0] == 0
    code, listed = users(tmp_path, "list")
    assert (code, listed) == (0, "alice\tprune\tenabled\nbob\tread\tenabled\n")
    assert users(tmp_path, "disable", "bob")[0] == 0
    assert users(tmp_path, "list")[1].splitlines()[1] == "bob\tread\tdisabled"
    assert users(tmp_path, "enable", "bob")[0] == 0
    saved = accounts.load_accounts(tmp_path / "u.toml")
    assert verify(saved, "alice", GOOD) and verify(saved, "bob", GOOD + "!")
    captured = capsys.readouterr()
    assert GOOD not in captured.out + captured.err + listed


def test_users_add_refuses_placeholders_duplicates_and_argv_passwords(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert users(tmp_path, "add", "alice", "--role", "prune", "--password-stdin",
                 password="CHANGE-ME")[0] == 2
    assert "placeholder" in capsys.readouterr().err
    assert users(tmp_path, "add", "alice", "--role", "prune", "--password-stdin")[0] == 2
    assert "empty" in capsys.readouterr().err
    assert not (tmp_path / "u.toml").exists()
    assert users(tmp_path, "add", "alice", "--role", "prune", "--password-stdin",
                 password=GOOD)[0] == 0
    assert users(tmp_path, "add", "alice", "--role", "read", "--password-stdin",
                 password=GOOD)[0] == 2
    assert "--replace" in capsys.readouterr().err
    assert users(tmp_path, "add", "alice", "--role", "read", "--replace", "--password-stdin",
                 password=GOOD + "2")[0] == 0
    assert accounts.load_accounts(tmp_path / "u.toml")["alice"].role == "read"
    assert users(tmp_path, "add", "alice", "--role", "admin")[0] == 2  # argparse: no such role
    assert users(tmp_path, "add", "Not Valid!", "--role", "read", "--password-stdin",
                 password=GOOD)[0] == 2
    assert users(tmp_path, "disable", "nobody")[0] == 2


def test_users_add_prompts_twice_on_a_terminal(tmp_path: Path) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    answers = iter([GOOD, GOOD + "x"])
    code = launcher.users_main(["add", "alice", "--role", "prune", "--file",
                                str(tmp_path / "u.toml")], env={}, project_root=tmp_path,
                               stdin=Tty(), ask=lambda prompt: next(answers), out=io.StringIO())
    assert code == 2, "two different passwords"
    answers = iter([GOOD, GOOD])
    code = launcher.users_main(["add", "alice", "--role", "prune", "--file",
                                str(tmp_path / "u.toml")], env={}, project_root=tmp_path,
                               stdin=Tty(), ask=lambda prompt: next(answers), out=io.StringIO())
    assert code == 0
    code = launcher.users_main(["add", "bob", "--role", "prune", "--file",
                                str(tmp_path / "u.toml")], env={}, project_root=tmp_path,
                               stdin=io.StringIO(""), out=io.StringIO())
    assert code == 2, "no terminal and no --password-stdin"


def test_users_file_location_follows_the_settings(tmp_path: Path) -> None:
    (tmp_path / ".streamlit").mkdir()
    out = io.StringIO()
    launcher.users_main(["list"], env={}, project_root=tmp_path, out=out)
    assert str(tmp_path / ".streamlit" / "pruner-users.toml") in out.getvalue()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(
        '[console]\nusers_file = "ops/users.toml"\n')
    launcher.users_main(["list"], env={}, project_root=tmp_path, out=out)
    assert str(tmp_path / "ops" / "users.toml") in out.getvalue()
    launcher.users_main(["list"], env={"PRUNER_CONSOLE_USERS_FILE": str(tmp_path / "e.toml")},
                        project_root=tmp_path, out=out)
    assert str(tmp_path / "e.toml") in out.getvalue()


def test_pruner_console_users_through_the_cli(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(GOOD + "\n"))
    path = str(tmp_path / "u.toml")
    assert pruner_main(["console", "users", "add", "alice", "--role", "read",
                        "--password-stdin", "--file", path]) == 0
    assert pruner_main(["console", "users", "list", "--file", path]) == 0
    assert "alice\tread\tenabled" in capsys.readouterr().out
