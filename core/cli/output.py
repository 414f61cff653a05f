"""What every `pruner` subcommand shares: its output (text or one JSON document), tables,
the confirmation prompt, the --csv target, and the two outcomes a command can end in besides
success: `Failed` (exit 1, nothing deleted) and `Committed` (exit 3: deletes were committed,
then a later step failed; the message names the run or drain).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any

from core import errors, export
from core.cli.args import UsageError


class Committed(errors.PrunerError):
    """Deletes were committed (and journaled), then a later step failed (exit 3). `details`
    go into the --json error document (run ids, the result)."""

    def __init__(self, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.details = details


class Failed(errors.PrunerError):
    """The operation failed and nothing of it was deleted (exit 1); `details` go into the --json
    error document."""

    def __init__(self, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.details = details


def _why(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


@contextlib.contextmanager
def after_commit(what: str, details: dict[str, Any]) -> Iterator[None]:
    """Run the steps that follow a commit (`what` committed): any failure becomes `Committed`,
    "<what>; its deletes are committed, but <step> failed: <why>". A closed stdout stays a
    closed stdout (quiet, exit 141)."""
    try:
        yield
    except (BrokenPipeError, Committed):
        raise
    except BaseException as exc:
        step = str(exc) if isinstance(exc, errors.PrunerError) else (
            f"a later step failed: {_why(exc)}")
        raise Committed(f"{what}; its deletes are committed, but {step}", details) from exc


async def publish(out: export.CsvFile, option: str,
                  write: Callable[[IO[str]], Any]) -> Any:
    """`out.publish(write)`; a file that cannot be written is `Failed`, naming it."""
    try:
        return await out.publish(write)
    except OSError as exc:
        raise Failed(f"writing {option} {out.path} failed: {_why(exc)}", {}) from exc


# ------------------------------------------------------------------------------ output helpers
def emit(args: argparse.Namespace, doc: dict[str, Any], text: str) -> None:
    """The command's result on stdout, flushed: a stdout that cannot take it fails here, where
    `after_commit` can still say what was committed."""
    with writing_stdout():
        print(json.dumps(doc, default=str) if args.json else text, flush=True)


@contextlib.contextmanager
def writing_stdout() -> Iterator[None]:
    """Output to stdout: a full disk or a dead terminal is `Failed`, naming it; a reader that
    went away (BrokenPipeError) ends the command quietly."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise Failed(f"writing the output failed: {_why(exc)}", {}) from exc


def fmt_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{t}: {n:,}" for t, n in counts.items())


def one_line(value: Any) -> str:
    """Free text (a reason, an operator) on one table line: control characters as spaces."""
    return "".join(" " if not c.isprintable() else c for c in str(value or ""))


def table(header: Sequence[str], rows: Sequence[Sequence[Any]],
          right: Sequence[int] = ()) -> str:
    """Rows under a header, each column as wide as its widest cell (the last is not padded)."""
    cells = [[str(c) for c in header]] + [[one_line(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for r in cells:
        parts = [c.rjust(w) if i in right else c.ljust(w)
                 for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        parts[-1] = r[-1].rjust(widths[-1]) if len(header) - 1 in right else r[-1]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def confirm(entity: str, what: str, assume_yes: bool) -> None:
    if assume_yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("refusing to delete without --yes when not on a terminal")
    print(what, file=sys.stderr)
    try:
        typed = input(f"Type the entity name ({entity}) to confirm: ")
    except EOFError:
        typed = ""
    if typed.strip() != entity:
        raise errors.Cancelled("not confirmed; nothing was deleted")


def open_csv(path: str | None, option: str = "--csv") -> export.CsvFile | None:
    """The --csv target, checked now (before anything is deleted); written after the commit."""
    return export.CsvFile(path, option=option) if path else None
