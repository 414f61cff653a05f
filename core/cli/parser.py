"""The `pruner` command line's parser: its subcommands and options (global options in either
position), and the hand-off of `pruner console …` to the console.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from core.cli.args import DURATION_HELP, Parser, UsageError, non_negative_int, positive_int
from core.cli.exits import EXIT_CODES_HELP
from core.settings import DEFAULT_LIMIT

# Options every command takes, before or after the subcommand name. Each position parses into
# its own attribute (argparse would let the subcommand's default undo a value given before it);
# `parse_args` merges them and refuses two different values.
GLOBAL_OPTIONS = ("database_url", "json")


def _global_options(level: str) -> Parser:
    common = Parser(add_help=False)
    common.add_argument("--database-url", dest=f"database_url@{level}", metavar="URL",
                        help="PostgreSQL URL (default: $PRUNER_DATABASE_URL)")
    common.add_argument("--json", dest=f"json@{level}", action="store_true",
                        help="print one JSON document (also on failure)")
    return common


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command line as one namespace, global options merged from every position."""
    args = build_parser().parse_args(argv)
    given = vars(args)
    urls = {v for k, v in given.items() if k.startswith("database_url@") and v is not None}
    if len(urls) > 1:
        raise UsageError("--database-url is given twice with different values")
    merged = {"database_url": urls.pop() if urls else None,
              "json": any(v for k, v in given.items() if k.startswith("json@"))}
    for key in [k for k in given if "@" in k]:
        delattr(args, key)
    for key, value in merged.items():
        setattr(args, key, value)
    return args


def build_parser() -> argparse.ArgumentParser:
    cutoff = Parser(add_help=False)
    cutoff.add_argument("--before", help="prune rows whose timestamp is before this ISO 8601 "
                                         "time with a timezone (2026-01-31T00:00:00Z)")
    cutoff.add_argument("--older-than", metavar="DURATION", help=DURATION_HELP)
    cutoff.add_argument("--policy", metavar="CATEGORY",
                        help="the cutoff the platform's own retention sweep uses for this "
                             "category: the database's now() minus its retention_period "
                             "(Backend.AI 26.8+, table retention_policies)")
    cutoff.add_argument("--no-rbac", action="store_true",
                        help="leave RBAC association rows in place")
    ids_from = Parser(add_help=False)
    ids_from.add_argument("--ids-from", metavar="FILE",
                          help="only these ids: one per line, or a CSV with an `id` column "
                               "(as `pruner export` writes); - reads stdin")

    p = Parser(prog="pruner", description="Safe, capped pruning of terminal-state rows.",
                epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
                parents=[_global_options("top")])
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)

    def command(name: str, *parents: Parser, help: str) -> Parser:
        return sub.add_parser(name, parents=[_global_options(name), *parents], help=help)

    command("list", help="list the registered pruners")

    ck = command("check", help="the plan of each pruner on this database (exit 1 when one "
                               "cannot run here)")
    ck.add_argument("entity", nargs="?", help="only this pruner")

    pv = command("preview", cutoff, ids_from, help="what a prune would delete")
    pv.add_argument("entity")
    pv.add_argument("--limit", type=positive_int, default=None,
                    help=f"the prune to preview takes at most this many (default "
                         f"{DEFAULT_LIMIT:,}, or the number of --ids-from ids)")
    pv.add_argument("--sample", type=int, default=10, help="oldest rows to show (default 10)")

    pr = command("prune", cutoff, ids_from, help="delete one capped batch")
    pr.add_argument("entity")
    pr.add_argument("--limit", type=positive_int, default=None)
    pr.add_argument("--reason", default="")
    pr.add_argument("--operator")
    pr.add_argument("--archive", action="store_true", help="keep the deleted rows as JSON")
    pr.add_argument("--dry-run", action="store_true", help="rehearse: run and roll back")
    pr.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    pr.add_argument("--csv", metavar="FILE",
                    help="write the pruned ids as CSV (written once the prune committed)")
    pr.add_argument("--retries", type=non_negative_int, default=3,
                    help="tries again after a transient failure (a deadlock, a lock timeout, a "
                         "dropped connection), each journaled (default 3; 0: never)")

    rs = command("restore", help="put back what an archived run (prune --archive) deleted")
    rs.add_argument("run_id", type=positive_int)
    rs.add_argument("--reason", default="")
    rs.add_argument("--operator")
    rs.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    dr = command("drain", cutoff, help="prune backlogs in batches: one pruner, several, or all "
                                        "(children's own pruners before their parents')")
    dr.add_argument("entities", nargs="*", metavar="ENTITY")
    dr.add_argument("--all", action="store_true",
                    help="every registered pruner that can run on this database")
    dr.add_argument("--category", metavar="CATEGORY",
                    help="the pruners covering one of the platform's retention categories "
                         "(see: pruner list)")
    dr.add_argument("--batch-size", type=positive_int, default=DEFAULT_LIMIT)
    dr.add_argument("--max-batches", type=positive_int, help="at most this many batches in all")
    dr.add_argument("--max-seconds", type=positive_int,
                    help="start no batch after this many seconds (in all)")
    dr.add_argument("--retries", type=non_negative_int, default=3,
                    help="tries a batch again after a transient failure (default 3; 0: never)")
    dr.add_argument("--pause", type=float, default=0.0, help="seconds between batches")
    dr.add_argument("--reason", default="")
    dr.add_argument("--operator")
    dr.add_argument("--yes", action="store_true")
    dr.add_argument("--csv", metavar="FILE",
                    help="write the pruned ids as CSV (from the journal, once the drain ended)")

    ds = command("drains", help="running and recent drains, with progress and heartbeat")
    ds.add_argument("--running", action="store_true", help="only drains still running")
    ds.add_argument("--entity")
    ds.add_argument("--limit", type=positive_int, default=20)

    st = command("stop", help="ask a running drain to stop after its current batch")
    st.add_argument("drain_id", metavar="DRAIN_ID", help="the drain's id (or its unique start)")

    pk = command("parked", cutoff, help="rows drains set aside, with the reason; --retry "
                                        "prunes them again")
    pk.add_argument("entity", nargs="?")
    pk.add_argument("--retry", action="store_true",
                    help="prune this entity's parked rows again (each must still qualify; "
                         "the cutoff defaults to now)")
    pk.add_argument("--in-chunks", type=positive_int, metavar="ROWS",
                    help="with --retry: delete each parked row's children in chunks of ROWS, "
                         "each chunk its own transaction, the row itself last (NOT atomic: "
                         "for a row too big for one statement)")
    pk.add_argument("--limit", type=positive_int, default=100)
    pk.add_argument("--retries", type=non_negative_int, default=3,
                    help="with --retry: tries again after a transient failure (default 3)")
    pk.add_argument("--reason", default="")
    pk.add_argument("--operator")
    pk.add_argument("--yes", action="store_true")

    hi = command("history", help="recent runs from the journal")
    hi.add_argument("--limit", type=positive_int, default=20)
    hi.add_argument("--entity")
    hi.add_argument("--status", choices=["succeeded", "failed", "rehearsed"])
    hi.add_argument("--drain", metavar="DRAIN_ID", help="only the batches of this drain")

    ex = command("export", help="a run's ids (or archived rows) as CSV")
    ex.add_argument("run_id", type=positive_int)
    ex.add_argument("--csv", metavar="FILE", help="write here instead of stdout")
    ex.add_argument("--archive", action="store_true", help="export the archived rows instead")

    demo = command("demo", help="the demo database")
    demo_sub = demo.add_subparsers(dest="demo_command", required=True, parser_class=Parser)
    seed = demo_sub.add_parser("seed", parents=[_global_options("demo seed")],
                               help="create the reference schema and fill it with demo data")
    seed.add_argument("--sessions", type=positive_int, default=20_000)

    sub.add_parser("console", add_help=False, help="open the operator console (Streamlit); "
                                                   "its options follow it (see: pruner console "
                                                   "--help)")
    return p


def console_argv(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]] | None:
    """For `pruner [global options] console …`: the global options and the console's own
    arguments (everything after `console`, which argparse cannot pass through whole); None for
    any other command."""
    found = argparse.Namespace(json=False, database_url=None)
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--json":
            found.json = True
        elif arg == "--database-url" and i + 1 < len(argv):
            found.database_url = argv[i + 1]
            i += 1
        elif arg.startswith("--database-url="):
            found.database_url = arg.partition("=")[2]
        else:
            break
        i += 1
    if argv[i:i + 1] != ["console"]:
        return None
    return found, list(argv[i + 1:])
