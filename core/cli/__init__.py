"""`pruner`: the command line for scripts, cron and operators.

Exit codes (core.cli.exits): 0 done; 1 failed, nothing was deleted; 2 bad usage, nothing ran;
3 the deletes are committed but a later step (the CSV, the output) failed; 141 stdout was
closed by its reader. Errors are one line on stderr, never a traceback (set PRUNER_DEBUG=1 for
one); with --json a failure also prints one JSON error document on stdout. `ERROR_EXITS` below
is the one mapping of errors to exit codes. `pruner console` runs the console through the
`pruner.commands` entry point, so this package never imports it.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from typing import Any

from core import errors, registry
from core.backendai.retention import cutoff_for_policy
from core.cli.args import UsageError
from core.cli.commands import COMMANDS
from core.cli.exits import EXIT_COMMITTED, EXIT_FAILED, EXIT_PIPE, EXIT_USAGE
from core.cli.output import Committed, Failed, writing_stdout
from core.cli.parser import console_argv, parse_args
from core.db import create_engine
from core.settings import DATABASE_URL_ENV, Settings

PLUGIN_GROUP = "pruner.commands"

# The one mapping of errors to exit codes and message prefixes; the first match wins. A prefix
# of None prints nothing (the reader of stdout went away: there is nobody to tell).
ERROR_EXITS: tuple[tuple[type[BaseException], int, str | None], ...] = (
    (BrokenPipeError, EXIT_PIPE, None),
    (Committed, EXIT_COMMITTED, "pruner: "),
    (Failed, EXIT_FAILED, "pruner: failed: "),
    (errors.InvalidArgument, EXIT_USAGE, "pruner: error: "),
    (errors.Cancelled, EXIT_FAILED, "pruner: "),
    (errors.PrunerError, EXIT_FAILED, "pruner: failed: "),
    (KeyboardInterrupt, EXIT_FAILED, "pruner: interrupted; the open transaction was rolled back"),
    (Exception, EXIT_FAILED, "pruner: internal error: "),  # a bug: never a traceback, unless
)                                                          # PRUNER_DEBUG asks for one


def plugin(name: str) -> Callable[[list[str]], int] | None:
    """A subcommand that another installed package provides (`pruner console`)."""
    for ep in entry_points(group=PLUGIN_GROUP):
        if ep.name == name:
            return ep.load()  # type: ignore[no-any-return]
    return None


def console(argv: list[str]) -> int:
    command = plugin("console")
    if command is None:
        raise errors.InvalidArgument(
            "the console is not installed here (pip install 'pruner[console]')")
    return command(argv)


async def run(args: Any, settings: Settings) -> int:
    registry.load_modules(settings.modules)
    handler = COMMANDS[args.command]
    if args.command == "list":
        return await handler(args, settings, None)
    engine = create_engine(args.database_url or settings.database_url)
    try:
        if getattr(args, "policy", None):  # the cutoff comes from the database
            args.policy_cutoff = await cutoff_for_policy(engine, args.policy)
        return await handler(args, settings, engine)
    finally:
        await engine.dispose()


def _asks_for_json(argv: Sequence[str]) -> bool:
    """--json as argparse would see it, for failures before (or while) parsing."""
    return "--json" in (argv[:argv.index("--")] if "--" in argv else argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = _asks_for_json(argv)
    debug = False
    try:
        settings = Settings.from_env()
        debug = settings.debug
        console_call = console_argv(argv)
        if console_call is not None:  # the console owns its own options
            given, rest = console_call
            if given.json:
                raise UsageError("pruner console has no --json")
            if given.database_url:
                os.environ[DATABASE_URL_ENV] = given.database_url
            return console(rest)
        args = parse_args(argv)
        as_json = args.json
        code = asyncio.run(run(args, settings))
        with writing_stdout():  # a closed stdout shows here, inside the error boundary
            sys.stdout.flush()
        return code
    except (Exception, KeyboardInterrupt) as exc:
        return fail(exc, as_json=as_json, debug=debug)


def fail(exc: BaseException, *, as_json: bool, debug: bool) -> int:
    """The error boundary: the exit code and one line on stderr (and the JSON document)."""
    kind, code, prefix = next(row for row in ERROR_EXITS if isinstance(exc, row[0]))
    if kind is Exception and debug:
        raise exc
    if prefix is None:
        _quiet_stdout()
        return code
    text = "" if isinstance(exc, KeyboardInterrupt) else str(exc)
    if kind is Exception:
        text = f"{type(exc).__name__}: {text}"
    message = f"{prefix}{text}".splitlines()[0]
    if as_json:
        doc = {"error": {"type": type(exc).__name__,
                         "message": (text.splitlines() or [message])[0], "exit_code": code},
               "committed": code == EXIT_COMMITTED, **getattr(exc, "details", {})}
        try:
            print(json.dumps(doc, default=str), flush=True)
        except OSError:
            _quiet_stdout()
    print(message, file=sys.stderr)
    return code


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, io.UnsupportedOperation):
        pass
