"""Run the `pruner` CLI in this process: its exit code and what it printed, as a subprocess would
report them. Async tests call `cli(...)`, which runs it on a worker thread (the CLI owns its
event loop, as at a shell)."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from unittest import mock

from core.cli import main


def run_cli(url: str | None, *args: str, stdin: str = "",
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    out, err = io.StringIO(), io.StringIO()
    given = {"PRUNER_OPERATOR": "cli-test", **({"PRUNER_DATABASE_URL": url} if url else {}),
             **(env or {})}
    with mock.patch.dict(os.environ, given), mock.patch.object(sys, "stdin", io.StringIO(stdin)), \
            redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(["pruner", *args], code, out.getvalue(), err.getvalue())


async def cli(url: str | None, *args: str, stdin: str = "",
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(run_cli, url, *args, stdin=stdin, env=env)
