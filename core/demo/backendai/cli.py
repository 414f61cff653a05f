"""The command line: `python -m core.demo.backendai build | facts | load` (see the package)."""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from sqlalchemy.engine import make_url

from core.demo.backendai.build import ensure_schema
from core.demo.backendai.catalog import facts
from core.demo.backendai.common import RELEASES, BackendAIError, resolve_release
from core.demo.backendai.loading import load_schema


def _help() -> str | None:
    """The package's docstring (core/demo/backendai/__init__.py): what the commands do."""
    return importlib.import_module("core.demo.backendai").__doc__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.demo.backendai", description=_help(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help="build (or reuse) the cached schema dumps")
    p_build.add_argument("releases", nargs="*", default=list(RELEASES),
                         help=f"release keys or versions (default: {' '.join(RELEASES)})")
    p_facts = sub.add_parser("facts", help="print catalog facts of a fresh database")
    p_facts.add_argument("release")
    p_load = sub.add_parser("load", help="create DATABASE holding a fresh schema")
    p_load.add_argument("release")
    p_load.add_argument("database")
    p_load.add_argument("--url", required=True, help="any database URL of the target server")
    p_load.add_argument("--replace", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            for release in args.releases:
                started = time.monotonic()
                dump = ensure_schema(release)
                print(f"{resolve_release(release)}: {dump} "
                      f"({time.monotonic() - started:.1f} s)")
        elif args.command == "facts":
            sys.stdout.write(facts(args.release))
        else:
            url = load_schema(args.url, args.database, args.release, replace=args.replace)
            print(make_url(url).render_as_string(hide_password=True))
    except BackendAIError as exc:
        print(f"backendai: {exc}", file=sys.stderr)
        return 1
    return 0
