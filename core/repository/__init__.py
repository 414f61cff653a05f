"""Repository patterns, one spec and one executor each: Creator, Updater, Purger (one row by
key) and Pruner (the bulk sweep, in its own package)."""

from core.repository.creator import Creator, execute_creator
from core.repository.pruner import (
    ArchiveTarget,
    Blocker,
    Child,
    Pruner,
    PruneResult,
    SweepRequest,
    execute_pruner,
    sweep,
)
from core.repository.purger import Purger, execute_purger
from core.repository.updater import Updater, execute_updater

__all__ = [
    "ArchiveTarget", "Blocker", "Child", "Creator", "PruneResult", "Pruner", "Purger",
    "SweepRequest", "Updater", "execute_creator", "execute_pruner", "execute_purger",
    "execute_updater", "sweep",
]
