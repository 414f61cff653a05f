"""Repository patterns: one spec and one executor each."""

from core.repository.creator import Creator, execute_creator
from core.repository.pruner import (
    Blocker,
    Child,
    Pruner,
    PruneResult,
    PruneSettings,
    execute_pruner,
)
from core.repository.purger import Purger, execute_purger
from core.repository.updater import Updater, execute_updater

__all__ = [
    "Blocker", "Child", "Creator", "PruneResult", "PruneSettings", "Pruner", "Purger", "Updater",
    "execute_creator", "execute_pruner", "execute_purger", "execute_updater",
]
