"""The `pruner` subcommands by name. Each takes the parsed arguments, the settings and a
database (None for `list`), prints its result (text, or one JSON document with --json) and
returns an exit code; `core.cli.output` has what they share.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable

from core.cli.draining import cmd_drain, cmd_drains, cmd_stop
from core.cli.parking import cmd_parked
from core.cli.pruning import cmd_prune, cmd_restore
from core.cli.reading import cmd_check, cmd_demo, cmd_export, cmd_history, cmd_list, cmd_preview
from core.db import Database
from core.settings import Settings

Command = Callable[[argparse.Namespace, Settings, Database | None], Awaitable[int]]
COMMANDS: dict[str, Command] = {
    "list": cmd_list, "check": cmd_check, "preview": cmd_preview, "prune": cmd_prune,
    "restore": cmd_restore, "drain": cmd_drain, "drains": cmd_drains, "stop": cmd_stop,
    "parked": cmd_parked, "history": cmd_history, "export": cmd_export, "demo": cmd_demo,
}
