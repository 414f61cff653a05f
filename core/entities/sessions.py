"""Terminated sessions, with their kernels, dependency edges and RBAC rows.

Terminal means TERMINATED or CANCELLED only. ERROR is left alone on purpose: the platform treats
ERROR as retriable (the scheduler may still retry or clean it up, and its kernels may still hold
resources), and an errored session is the evidence an operator needs to debug it.
"""

from core.reference_schema import (
    DEAD_STATUSES,
    kernels,
    routings,
    session_dependencies,
    sessions,
)
from core.repository.pruner import Blocker, Child, Pruner

PRUNER = Pruner(
    name="sessions",
    table=sessions,
    terminal=sessions.c.status.in_(DEAD_STATUSES),
    timestamp="terminated_at",
    children=(
        Child(kernels, on="session_id", rbac_entity_type="kernel"),
        Child(session_dependencies, on=("session_id", "depends_on")),
    ),
    blockers=(
        Blocker(routings, on="session", reason="still has a routing (ON DELETE RESTRICT)"),
        # A dead session with a kernel that is not dead yet is inconsistent; keep it for a human.
        Blocker(kernels, on="session_id", where=kernels.c.status.not_in(DEAD_STATUSES),
                reason="has a kernel that is not terminated"),
    ),
    rbac_entity_type="session",
    description="Terminated or cancelled sessions, their kernels and RBAC rows",
)
