"""Pruner's library: safe, capped sweeps of terminal-state rows from PostgreSQL.

    from core import Creator, Updater, Purger, Pruner

`core` is async (SQLAlchemy AsyncEngine + asyncpg) and never imports streamlit.
"""

from core.db import create_engine
from core.errors import PrunerError
from core.registry import register
from core.repository import (
    Blocker,
    Child,
    Creator,
    Pruner,
    PruneResult,
    PruneSettings,
    Purger,
    Updater,
    execute_creator,
    execute_pruner,
    execute_purger,
    execute_updater,
)

__all__ = [
    "Blocker", "Child", "Creator", "PruneResult", "PruneSettings", "Pruner", "PrunerError",
    "Purger", "Updater", "create_engine", "execute_creator", "execute_pruner", "execute_purger",
    "execute_updater", "register",
]
