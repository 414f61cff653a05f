"""Sessions that ended (TERMINATED, CANCELLED), with their kernels and everything that names them.

Why these: nothing on the platform acts on a TERMINATED or CANCELLED session again. ERROR is
terminal for the platform's retention sweep as well, but it is retriable and it is the evidence
an operator debugs with, so it has its own entity and cutoff (`sessions_errored`); the two
together delete what the platform's `sessions` category deletes.

A kernel in ERROR, TERMINATED or CANCELLED is dead and goes with its session; any other kernel
keeps the session (checked again when its kernels are deleted). Kernels reference their session
without ON DELETE, so they are a declared Child; a routing (ON DELETE RESTRICT) blocks from the
catalog; dependency edges and idle checks cascade (catalog, counted), as do the kernels'
resource allocations and vfolder attachments. RBAC rows go both ways (26.8: association rows of
the session and of its kernels, object permissions, grants scoped to them; 26.9: the session's
node and what hangs off it). Scheduling history and usage records name sessions and kernels
without a foreign key and have their own retention: previews count them (Mentions).
"""

from __future__ import annotations

from core.backendai.facts import KERNEL_DEAD, MODELLED, SESSION_DEAD
from core.backendai.rbac import rbac
from core.backendai.schema import Schema
from core.backendai.variants import per_release, variant
from core.entities.rbac import association_links
from core.reference_schema import DEAD_STATUSES, kernels, routings, sessions
from core.repository.pruner import Blocker, Child, Mention, Pruner

NAME = "sessions"
CATEGORY = "sessions"


def declare(s: Schema, name: str, statuses: tuple[str, ...], description: str) -> Pruner:
    """A sessions entity of a real release, for the session statuses given."""
    k = s.kernels
    return variant(
        s.model, name=name, table=s.sessions, terminal=s.sessions.c.status.in_(statuses),
        timestamp="terminated_at",
        children=(Child(k, on="session_id"),),
        blockers=(Blocker(k, on="session_id", where=k.c.status.not_in(KERNEL_DEAD),
                          reason="has a kernel that is not terminated, cancelled or errored"),),
        links=rbac(s, s.sessions, k),
        mentions=(Mention(s.session_scheduling_history, "session_id"),
                  Mention(s.kernel_scheduling_history, "session_id"),
                  Mention(s.kernel_scheduling_history, "kernel_id", of=k),
                  Mention(s.kernel_usage_records, "session_id"),
                  Mention(s.kernel_usage_records, "kernel_id", of=k)),
        description=description)


MODELLED_PRUNER = variant(
    MODELLED, name=NAME, table=sessions, terminal=sessions.c.status.in_(DEAD_STATUSES),
    timestamp="terminated_at",
    children=(Child(kernels, on="session_id"),),
    blockers=(
        Blocker(routings, on="session", reason="still has a routing (ON DELETE RESTRICT)"),
        # A dead session with a kernel that is not dead yet is inconsistent; keep it for a human.
        Blocker(kernels, on="session_id", where=kernels.c.status.not_in(DEAD_STATUSES),
                reason="has a kernel that is not terminated"),
    ),
    links=(*association_links("session"), *association_links("kernel", of=kernels)),
    description="Terminated or cancelled sessions, their kernels and RBAC rows",
)

VARIANTS: tuple[Pruner, ...] = (MODELLED_PRUNER, *per_release(lambda s: declare(
    s, NAME, SESSION_DEAD,
    "Terminated or cancelled sessions, their dead kernels and RBAC rows")))
