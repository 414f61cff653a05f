"""Pruner's library: safe, capped sweeps of terminal-state rows from PostgreSQL.

    from core import Pruner, sweep, execute_pruner, registry

`core` is async (SQLAlchemy AsyncEngine + asyncpg) and never imports streamlit, pandas or altair.
"""

from core.db import create_engine
from core.errors import PrunerError
from core.registry import register
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
from core.settings import PruneSettings, Settings

__all__ = [
    "ArchiveTarget", "Blocker", "Child", "Creator", "PruneResult", "PruneSettings", "Pruner",
    "PrunerError", "Purger", "Settings", "SweepRequest", "Updater", "create_engine",
    "execute_creator", "execute_pruner", "execute_purger", "execute_updater", "register",
    "sweep",
]
