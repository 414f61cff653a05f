"""`pruner console` / `python -m console`: the operator console in one command.

With a database configured (PRUNER_DATABASE_URL or `[database] url` in a Streamlit secrets file)
it just runs Streamlit on it. Without one it starts the embedded demo PostgreSQL cluster in
.pruner/demo-pg, creates and seeds `pruner_demo` once (a second run reuses the data), runs the
console on it in demo mode, and stops the cluster when the console exits.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import FrameType

from console.settings import DEMO_ENV
from core.demo.cluster import ClusterError
from core.errors import PrunerError
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
        epilog="Other arguments are passed to `streamlit run` (e.g. --server.port 8600).")
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


def main(argv: list[str] | None = None) -> int:
    args, extra = parse_args(list(sys.argv[1:] if argv is None else argv))
    env = dict(os.environ)
    cluster = None
    _terminate_on_sigterm()
    try:
        if not database_configured(env, PROJECT_ROOT):
            from core.db import redact
            from core.demo.seed import start_demo_cluster

            print("pruner console: no database configured; starting the demo database "
                  "(.pruner/demo-pg)…", flush=True)
            cluster = start_demo_cluster(PROJECT_ROOT)
            url = cluster.create_database(DEMO_DATABASE)
            if asyncio.run(seed_once(url, args.demo_sessions)):
                print(f"pruner console: seeded {args.demo_sessions:,} demo sessions", flush=True)
            print(f"pruner console: demo database {redact(url)}", flush=True)
            env[DATABASE_URL_ENV] = url
            env[DEMO_ENV] = "1"
        return run_streamlit(streamlit_command(args, extra, env), env)
    except KeyboardInterrupt:
        return 130
    except (ClusterError, PrunerError) as exc:
        print(f"pruner console: {exc}", file=sys.stderr)
        return 1
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    finally:
        if cluster is not None:
            cluster.stop()
            print("pruner console: demo database stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
