"""`pruner`: the command line for scripts, cron and operators.

Exit codes: 0 success, 1 the operation failed (nothing was deleted by the failed step),
2 bad usage. Errors are one line on stderr, never a traceback (set PRUNER_DEBUG=1 for one).
`pruner console` runs the console through the `pruner.commands` entry point, so this package
never imports it.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points

from core import errors, registry
from core.cli.args import build_parser
from core.cli.commands import COMMANDS, EXIT_FAILED, EXIT_USAGE
from core.db import create_engine
from core.settings import Settings

PLUGIN_GROUP = "pruner.commands"

# The one mapping of errors to exit codes and message prefixes; the first match wins.
ERROR_EXITS: tuple[tuple[type[BaseException], int, str], ...] = (
    (errors.InvalidArgument, EXIT_USAGE, "pruner: error: "),
    (errors.Cancelled, EXIT_FAILED, "pruner: "),
    (errors.PrunerError, EXIT_FAILED, "pruner: failed: "),
    (KeyboardInterrupt, EXIT_FAILED, "pruner: interrupted; the open transaction was rolled back"),
)


def plugin(name: str) -> Callable[[list[str]], int] | None:
    """A subcommand that another installed package provides (`pruner console`)."""
    for ep in entry_points(group=PLUGIN_GROUP):
        if ep.name == name:
            return ep.load()  # type: ignore[no-any-return]
    return None


async def run(argv: Sequence[str], settings: Settings) -> int:
    args = build_parser().parse_args(argv)
    registry.load_modules(settings.modules)
    handler = COMMANDS[args.command]
    if args.command == "list":
        return await handler(args, settings, None)
    engine = create_engine(args.database_url or settings.database_url)
    try:
        return await handler(args, settings, engine)
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = False
    try:
        settings = Settings.from_env()
        debug = settings.debug
        if argv[:1] == ["console"]:  # the console owns its own options
            command = plugin("console")
            if command is None:
                raise errors.InvalidArgument(
                    "the console is not installed here (pip install 'pruner[console]')")
            return command(argv[1:])
        return asyncio.run(run(argv, settings))
    except (errors.PrunerError, KeyboardInterrupt) as exc:
        for kind, code, prefix in ERROR_EXITS:
            if isinstance(exc, kind):
                text = "" if isinstance(exc, KeyboardInterrupt) else str(exc)
                print(f"{prefix}{text}", file=sys.stderr)
                return code
        raise AssertionError("unreachable: PrunerError is in ERROR_EXITS") from exc
    except Exception as exc:  # never a traceback for an operator, unless asked
        if debug:
            raise
        print(f"pruner: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
