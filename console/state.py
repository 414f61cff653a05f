"""Session-state keys, in one place so pages, callbacks and tests agree on them."""

from __future__ import annotations


class Keys:
    CONTEXT = "console.context"  # ConsoleContext of the current run (set by app.py)
    PAGE = "console.page"  # url path of the page the last run showed
    OPERATOR = "console.operator"  # signed-in account or typed name (password sign-in)
    SIGNED_IN_WITH = "console.signed_in_with"  # fingerprint of the credential it signed in with
    SIGN_IN_LOGGED = "console.sign_in.logged"  # sign-in events of this session already logged
    SIGN_IN_NAME = "console.sign_in.name"
    SIGN_IN_PASSWORD = "console.sign_in.password"
    SIGN_IN_ERROR = "console.sign_in.error"

    ANCHOR = "console.anchor"  # the "now" that "older than N days" counts from, until Refresh
    ENTITY = "console.entity"
    CUTOFF_MODE = "console.cutoff.mode"
    CUTOFF_DAYS = "console.cutoff.days"
    CUTOFF_DATE = "console.cutoff.date"
    LIMIT = "console.limit"
    MAX_LIMIT = "console.max_limit"  # PRUNER_MAX_LIMIT of this run (set by app.py)

    CANDIDATES_TABLE = "candidates.table"  # widgets.selectable_table name
    OUTCOME = "candidates.outcome"  # the last rehearsal / prune, shown until dismissed
    REHEARSE = "candidates.rehearse"  # set by the Rehearse button, run once by the page
    CHART_SINCE = "candidates.chart_since"  # entity -> where its chart's x axis starts

    PENDING = "confirm.pending"  # a PruneRequest awaiting the dialog
    PLAN = "confirm.plan"  # the Plan computed for it when the dialog opened
    PLAN_ERROR = "confirm.plan_error"
    REASON = "confirm.reason"
    TYPED = "confirm.typed"
    CONFIRM_ERROR = "confirm.error"
    CONFIRMED = "confirm.confirmed"  # (Plan, Confirmation) handed to the page to execute

    DRAIN_JOB = "drain.job"
    DRAIN_BATCH = "drain.batch_size"
    DRAIN_MAX_BATCHES = "drain.max_batches"
    DRAIN_PAUSE = "drain.pause"
    PARKED_TABLE = "drain.parked"  # widgets.selectable_table name
    RETRY_OUTCOME = "drain.retry_outcome"  # the last retry of parked rows

    HISTORY_ENTITY = "history.entity"
    HISTORY_STATUS = "history.status"
    HISTORY_KIND = "history.kind"
    HISTORY_OPERATOR = "history.operator"
    HISTORY_TABLE = "history.table"
    HISTORY_GROUP = "history.group"  # one line per drain
    HISTORY_BATCHES = "history.batches"  # a drain's batches (selectable table)
    RESTORED = "history.restored"  # the last restore, shown until dismissed
