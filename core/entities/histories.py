"""The platform's reconciler histories: append-only records, by `updated_at` (a retried step
refreshes it), as its `reconcile_history` category. They name sessions, kernels, deployments,
routes and replica groups without a foreign key, so they outlive them; previews of those rows
count them (Mentions). One entity per table; a new history table is one line here."""

from __future__ import annotations

from core.backendai.kinds import Entity, table_pruner

CATEGORY = "reconcile_history"
ENTITIES: tuple[Entity, ...] = tuple(
    Entity(name, CATEGORY, table_pruner(
        name, name, "updated_at", f"{what} history rows last updated before the cutoff"))
    for name, what in (
        ("session_scheduling_history", "Session scheduling"),
        ("kernel_scheduling_history", "Kernel scheduling"),
        ("deployment_history", "Deployment"),
        ("route_history", "Route"),
        ("replica_group_history", "Replica group"),
    ))
