"""The command line's global options in either position (issue 12, case 8), without a database."""

from __future__ import annotations

import pytest

from core.cli.args import UsageError
from core.cli.parser import console_argv, parse_args


@pytest.mark.parametrize("argv", [
    ["--database-url", "postgresql://x/a", "--json", "history"],
    ["history", "--database-url", "postgresql://x/a", "--json"],
    ["--json", "history", "--database-url=postgresql://x/a"],
    ["--database-url", "postgresql://x/a", "history", "--database-url", "postgresql://x/a",
     "--json", "--json"],
])
def test_global_options_anywhere(argv):
    args = parse_args(argv)
    assert (args.command, args.database_url, args.json) == ("history", "postgresql://x/a", True)
    assert not [k for k in vars(args) if "@" in k]


def test_defaults_and_nested_subcommands():
    args = parse_args(["list"])
    assert (args.database_url, args.json) == (None, False)
    args = parse_args(["--json", "demo", "--database-url", "postgresql://x/a", "seed"])
    assert (args.json, args.database_url, args.demo_command) == (True, "postgresql://x/a", "seed")


def test_two_different_urls_are_refused():
    with pytest.raises(UsageError, match="given twice"):
        parse_args(["--database-url", "postgresql://x/a", "list", "--database-url",
                    "postgresql://x/b"])


def test_the_console_keeps_its_own_arguments():
    assert console_argv(["list"]) is None
    assert console_argv(["--json", "list"]) is None
    given, rest = console_argv(["--database-url", "postgresql://x/a", "console", "--port", "1",
                                "--json"])
    assert (given.database_url, given.json, rest) == ("postgresql://x/a", False,
                                                      ["--port", "1", "--json"])
    given, rest = console_argv(["console", "users", "list"])
    assert (given.database_url, rest) == (None, ["users", "list"])
