"""Pruner: the bulk sweep of rows that reached a terminal state.

    declaration   Pruner, Child, Blocker: what may be pruned, checked when declared
    request       SweepRequest / sweep(): one validated call (before, limit, ids, cascade_rbac)
    statements    the SQL (candidates, the prune statement, the preview's cascade counts)
    executor      execute(): one request, one transaction, one statement
    result        PruneResult
"""

from core.repository.pruner.declaration import Blocker, Child, Pruner
from core.repository.pruner.executor import execute, execute_pruner
from core.repository.pruner.request import SweepRequest, sweep
from core.repository.pruner.result import PruneResult
from core.repository.pruner.statements import ArchiveTarget

__all__ = ["ArchiveTarget", "Blocker", "Child", "PruneResult", "Pruner", "SweepRequest",
           "execute", "execute_pruner", "sweep"]
