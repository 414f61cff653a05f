"""`pruner console` / `python -m console`: the operator console in one command.

With a database configured (PRUNER_DATABASE_URL or `[database] url` in a Streamlit secrets file)
it just runs Streamlit on it. Without one it leases the embedded demo PostgreSQL cluster in
.pruner/demo-pg (starting it unless it runs already), creates and seeds `pruner_demo` once (a
second run reuses the data), runs the console on it in demo mode, and gives the lease back when
the console exits: the cluster stops only when no other console or notebook uses it, and only if
one of them started it. Either way it first
checks the console's settings and refuses to start on a bad one (a placeholder password, a flag
that does not parse, two ways to sign in).

`pruner console users add|disable|enable|list` manages the operator accounts (console.accounts).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import signal
import subprocess
import sys
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from console import accounts
from console.settings import (
    DEMO_ENV,
    ConsoleSettings,
    load_settings,
    scrub,
    table,
    users_file_path,
)
from core.demo.cluster import ClusterError
from core.errors import InvalidArgument, PrunerError
from core.settings import DATABASE_URL_ENV

PROJECT_ROOT = Path(__file__).resolve().parents[1]
APP = PROJECT_ROOT / "console" / "app.py"
DEMO_DATABASE = "pruner_demo"
DEMO_SESSIONS = 30_000
DEFAULT_ADDRESS = "127.0.0.1"
ADDRESS_ENV = "PRUNER_CONSOLE_ADDRESS"


def secrets_database_url(project_root: Path) -> str | None:
    """The `[database] url` of the secrets files Streamlit would read, if any."""
    for path in (Path.home() / ".streamlit" / "secrets.toml",
                 project_root / ".streamlit" / "secrets.toml"):
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError):
            continue
        url = (data.get("database") or {}).get("url")
        if url:
            return str(url)
    return None


def read_secrets(project_root: Path) -> dict[str, Any]:
    """The secrets files Streamlit reads, merged the way it does (a later file's top-level keys
    win). A file that does not parse is left to Streamlit to report."""
    merged: dict[str, Any] = {}
    for path in (Path.home() / ".streamlit" / "secrets.toml",
                 project_root / ".streamlit" / "secrets.toml"):
        try:
            merged.update(tomllib.loads(path.read_text()))
        except (OSError, tomllib.TOMLDecodeError):
            continue
    return merged


def database_configured(env: Mapping[str, str], project_root: Path) -> bool:
    return bool(env.get(DATABASE_URL_ENV)) or secrets_database_url(project_root) is not None


async def seed_once(url: str, sessions: int) -> bool:
    """Seed the demo database unless it already holds data; True when it seeded."""
    from core import create_engine
    from core.demo.seed import is_seeded, seed

    engine = create_engine(url)
    try:
        if await is_seeded(engine):
            return False
        await seed(engine, sessions=sessions)
        return True
    finally:
        await engine.dispose()


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        prog="pruner console", description="Run the Pruner operator console (Streamlit).",
        epilog="Other arguments are passed to `streamlit run` (e.g. --server.port 8600). "
               "`pruner console users --help`: the operator accounts.")
    parser.add_argument("--port", type=int, help="port to listen on (default: Streamlit's 8501)")
    parser.add_argument("--address", help=f"address to listen on (default {DEFAULT_ADDRESS}; "
                                          f"or {ADDRESS_ENV})")
    parser.add_argument("--demo-sessions", type=int, default=DEMO_SESSIONS,
                        help="sessions to seed a fresh demo database with")
    return parser.parse_known_args(argv)


def streamlit_command(args: argparse.Namespace, extra: list[str],
                      env: Mapping[str, str]) -> list[str]:
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP)]
    if not any(a.startswith("--server.address") for a in extra):
        cmd += ["--server.address", args.address or env.get(ADDRESS_ENV) or DEFAULT_ADDRESS]
    if args.port:
        cmd += ["--server.port", str(args.port)]
    return cmd + ["--server.headless", "true", "--browser.gatherUsageStats", "false", *extra]


def _terminate_on_sigterm() -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)  # unwinds through `finally`: the cluster is stopped

    signal.signal(signal.SIGTERM, handler)


def run_streamlit(cmd: list[str], env: dict[str, str]) -> int:
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env)
    try:
        return proc.wait()
    except (KeyboardInterrupt, SystemExit):
        # Ctrl-C reached Streamlit too (same process group); give it time to shut down.
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise


# ------------------------------------------------------------------------------ users
def users_parser() -> argparse.ArgumentParser:
    file_help = ("the users file (default: PRUNER_CONSOLE_USERS_FILE, else [console] "
                 "users_file in .streamlit/secrets.toml, else .streamlit/pruner-users.toml in "
                 "the project)")
    parser = argparse.ArgumentParser(
        prog="pruner console users",
        description="Manage the console's operator accounts (argon2 password hashes).")
    parser.add_argument("--file", type=Path, help=file_help)
    # also accepted after the action; SUPPRESS keeps it from undoing a --file given before it
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--file", type=Path, default=argparse.SUPPRESS, help=file_help)
    sub = parser.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", parents=[where], help="add an account, or with --replace "
                                                      "set a new password and role")
    add.add_argument("name")
    add.add_argument("--role", choices=accounts.ROLES, required=True,
                     help="prune: may prune and drain; read: preview and history only")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of stdin (no prompt)")
    add.add_argument("--replace", action="store_true",
                     help="replace an existing account's password and role (and enable it)")
    for action, what in (("disable", "disable an account (it can no longer sign in; a "
                                     "signed-in session ends at its next click)"),
                         ("enable", "enable a disabled account")):
        sub.add_parser(action, parents=[where], help=what).add_argument("name")
    sub.add_parser("list", parents=[where], help="list the accounts (never their hashes)")
    return parser


def read_new_password(name: str, from_stdin: bool, stdin: TextIO,
                      ask: Callable[[str], str]) -> str:
    if from_stdin:
        password = stdin.readline().rstrip("\r\n")
    elif stdin.isatty():
        password = ask(f"Password for {name}: ")
        if ask("The same password again: ") != password:
            raise InvalidArgument("the two passwords differ")
    else:
        raise InvalidArgument("no terminal to ask for the password on: pipe it in with "
                              "--password-stdin (never put it on the command line)")
    return accounts.check_secret(password, "the password")


def users_main(argv: list[str], *, env: Mapping[str, str] | None = None,
               project_root: Path = PROJECT_ROOT, stdin: TextIO | None = None,
               ask: Callable[[str], str] = getpass.getpass, out: TextIO | None = None) -> int:
    """`pruner console users …`: 0 done, 1 the file could not be written, 2 bad usage."""
    out = out or sys.stdout
    try:
        args = users_parser().parse_args(argv)
    except SystemExit as exc:  # argparse printed why
        return exc.code if isinstance(exc.code, int) else 2
    env = os.environ if env is None else env
    path = args.file
    if path is None:
        path, _ = users_file_path(env, table(read_secrets(project_root), "console"),
                                  project_root)
    elif not path.is_absolute():
        path = Path.cwd() / path
    try:
        known = accounts.load_accounts(path)
        if args.action == "list":
            if not known:
                print(f"no accounts in {path}", file=out)
            for account in sorted(known.values(), key=lambda a: a.name):
                state = "disabled" if account.disabled else "enabled"
                print(f"{account.name}\t{account.role}\t{state}", file=out)
            return 0
        name = accounts.check_name(accounts.normalize_name(args.name))
        if args.action == "add":
            if name in known and not args.replace:
                raise InvalidArgument(f"the account {name} exists: add --replace to set a new "
                                      "password and role")
            password = read_new_password(name, args.password_stdin, stdin or sys.stdin, ask)
            known[name] = accounts.Account(name, args.role, accounts.hash_password(password))
            done = f"{'replaced' if args.replace else 'added'} account {name} ({args.role})"
        else:
            if name not in known:
                raise InvalidArgument(f"there is no account {name} in {path}")
            disable = args.action == "disable"
            old = known[name]
            known[name] = accounts.Account(name, old.role, old.password_hash, disable)
            done = f"{args.action}d account {name}"
        accounts.write_accounts(path, known)
    except InvalidArgument as exc:
        print(f"pruner console users: error: {exc}", file=sys.stderr)
        return 2
    except (PrunerError, OSError) as exc:
        print(f"pruner console users: failed: {exc}", file=sys.stderr)
        return 1
    print(f"pruner console users: {done} in {path}", file=out)
    return 0


# ------------------------------------------------------------------------------ main
def check_settings(env: Mapping[str, str], project_root: Path) -> ConsoleSettings:
    """Refuse to start on settings the console would refuse (InvalidArgument), before a
    server or a demo cluster is started."""
    return load_settings(env, read_secrets(project_root), cwd=project_root)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["users"]:
        return users_main(argv[1:])
    args, extra = parse_args(argv)
    env = dict(os.environ)
    cluster = None
    settings = None
    _terminate_on_sigterm()
    try:
        settings = check_settings(env, PROJECT_ROOT)
        if not database_configured(env, PROJECT_ROOT):
            from core.db import redact
            from core.demo.seed import lease_demo_cluster, write_demo_url

            print("pruner console: no database configured; using the demo database "
                  "(.pruner/demo-pg)…", flush=True)
            cluster, started = lease_demo_cluster(PROJECT_ROOT)
            print("pruner console: " + ("started the demo database" if started else
                  "the demo database was running already: using it, leaving it running"),
                  flush=True)
            url = cluster.create_database(DEMO_DATABASE)
            if asyncio.run(seed_once(url, args.demo_sessions)):
                print(f"pruner console: seeded {args.demo_sessions:,} demo sessions", flush=True)
            print(f"pruner console: demo database {redact(url)} (with its password in "
                  f"{write_demo_url(PROJECT_ROOT, url)})", flush=True)
            env[DATABASE_URL_ENV] = url
            env[DEMO_ENV] = "1"
        return run_streamlit(streamlit_command(args, extra, env), env)
    except KeyboardInterrupt:
        return 130
    except InvalidArgument as exc:
        print(f"pruner console: refusing to start: {scrub(str(exc), settings)}", file=sys.stderr)
        return 2
    except (ClusterError, PrunerError) as exc:
        print(f"pruner console: {scrub(str(exc), settings)}", file=sys.stderr)
        return 1
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    finally:
        if cluster is not None:
            # Stops the server only if no other console or notebook still uses it and a
            # console (or notebook) started it: never another's database.
            if cluster.release():
                print("pruner console: demo database stopped", flush=True)
            else:
                print("pruner console: demo database left running (in use elsewhere, or "
                      "started before this console)", flush=True)


if __name__ == "__main__":
    sys.exit(main())
