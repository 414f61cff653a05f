"""Terminated sessions, with their kernels, dependency edges and RBAC rows.

Terminal means TERMINATED or CANCELLED only. ERROR is left alone on purpose: the platform treats
ERROR as retriable (the scheduler may still retry or clean it up, and its kernels may still hold
resources), and an errored session is the evidence an operator needs to debug it.

Kernels reference their session without ON DELETE, so they are declared; everything that
cascades (dependency edges) and every RESTRICT reference (routings) comes from the catalog.
"""

from core.entities.rbac import association_links
from core.reference_schema import DEAD_STATUSES, kernels, routings, sessions
from core.repository.pruner import Blocker, Child, Pruner

PRUNER = Pruner(
    name="sessions",
    table=sessions,
    terminal=sessions.c.status.in_(DEAD_STATUSES),
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
