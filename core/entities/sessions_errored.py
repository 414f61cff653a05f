"""Sessions that ended in ERROR, with their kernels and everything that names them.

The platform's retention sweep counts ERROR as terminal; the scheduler may still retry an
errored session and an operator debugs with it, so it is pruned on its own, with its own cutoff
(e.g. `sessions` at 90 days, `sessions_errored` at 30). An ERROR session without
`terminated_at` never qualifies (as in the platform's sweep). Everything else is `sessions`'
declaration: same kernels, guards, RBAC rows and mentions.
"""

from __future__ import annotations

from core.backendai.facts import SESSION_ERRORED
from core.backendai.variants import per_release
from core.entities.sessions import declare
from core.repository.pruner import Pruner

NAME = "sessions_errored"
CATEGORY = "sessions"

VARIANTS: tuple[Pruner, ...] = per_release(lambda s: declare(
    s, NAME, SESSION_ERRORED, "Sessions that ended in ERROR, their dead kernels and RBAC rows"))
