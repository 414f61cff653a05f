"""The `pruner` exit codes (the error → exit-code table itself is in `core.cli`)."""

from __future__ import annotations

EXIT_OK = 0  # done
EXIT_FAILED = 1  # the operation failed; nothing of it was deleted (committed)
EXIT_USAGE = 2  # bad usage: the command line or a value in it; nothing ran
EXIT_COMMITTED = 3  # deletes were committed, then a later step (CSV, output) failed
EXIT_PIPE = 141  # the reader of stdout went away (`| head`): 128 + SIGPIPE, as a shell reports

EXIT_CODES_HELP = """exit codes:
  0    done
  1    failed; nothing was deleted
  2    bad usage; nothing ran
  3    the deletes are committed (and journaled), but a later step failed, e.g. writing --csv;
       the message names the run (or drain) id
  141  stdout was closed by its reader (e.g. | head); output stops quietly
With --json a failure still prints one JSON document on stdout ({"error": {...}}); the
one-line message goes to stderr either way."""
