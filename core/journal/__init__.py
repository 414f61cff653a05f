"""The journal: what every prune, rehearsal, drain and restore did, in tables this project owns
(the `pruner` schema). `tables` defines and creates them; `runs` writes and reads runs, their
ids and archived rows; `drains` one row per drain (progress and its stop flag); `parked` the
rows a drain set aside."""

from core.journal import drains, parked
from core.journal.runs import (
    ArchivedRow,
    Run,
    RunRecord,
    archived_rows,
    get_run,
    history,
    id_text,
    record,
    reserve_run_id,
    run_ids,
)
from core.journal.tables import SCHEMA, archive, ensure_journal, metadata, pruned_ids, runs

__all__ = ["SCHEMA", "ArchivedRow", "Run", "RunRecord", "archive", "archived_rows", "drains",
           "ensure_journal", "get_run", "history", "id_text", "metadata", "parked", "pruned_ids",
           "record", "reserve_run_id", "run_ids", "runs"]
