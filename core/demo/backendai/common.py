"""What every step shares: the pinned releases, the one error type, progress messages, safe
database names, and running a command that must succeed."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

# The releases we build: the last 26.8.x and the newest 26.9.x on PyPI (checked 2026-11-29 with
# `pip index versions backend-ai-manager` under Python 3.13).
RELEASES: dict[str, str] = {"26.8": "26.8.3", "26.9": "26.9.6"}

# Bump when the dump's content or the way it is made changes: cached dumps of another builder
# revision are rebuilt, templates restored from another dump are re-created.
BUILDER_REVISION = 1

PACKAGE = "backend-ai-manager"

Progress = Callable[[str], None]
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class BackendAIError(RuntimeError):
    """A Backend.AI schema could not be built or loaded; the message says why in one line."""


def say(progress: Progress | None, message: str) -> None:
    """Hand `message` to `progress` (a line printer), if there is one."""
    if progress is not None:
        progress(message)


def print_progress(message: str) -> None:
    print(f"backendai: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------- releases
def resolve_release(release: str) -> str:
    """The exact version for a short key ("26.9") or an exact pinned version ("26.9.6")."""
    if release in RELEASES:
        return RELEASES[release]
    if release in RELEASES.values():
        return release
    known = ", ".join(f"{k} ({v})" for k, v in RELEASES.items())
    raise BackendAIError(f"unknown Backend.AI release {release!r}; known: {known}")


def release_key(release: str) -> str:
    """The short key ("26.9") of a key or a pinned version."""
    version = resolve_release(release)
    return next(k for k, v in RELEASES.items() if v == version)


def check_identifier(name: str) -> str:
    """A database name we may splice into SQL: lower-case letters, digits, underscores."""
    if not _IDENT.match(name):
        raise BackendAIError(f"unsafe database name {name!r} (use [a-z_][a-z0-9_]*, <= 63 chars)")
    return name


# ---------------------------------------------------------------------------------- commands
def _run(cmd: list[str], what: str, *, timeout: float = 900, cwd: Path | None = None,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                              env=env)
    except subprocess.TimeoutExpired:
        raise BackendAIError(f"{what} took longer than {timeout:.0f} s") from None
    except OSError as exc:
        raise BackendAIError(f"{what} could not start: {exc}") from None
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["(no output)"]
        raise BackendAIError(f"{what} failed (exit {proc.returncode}): {tail[0]}")
    return proc
