"""Pruner: the bulk sweep of rows that reached a terminal state.

    declaration   Pruner, Child, Blocker, Link, SetNull: what may be pruned, checked when declared
    catalog       what PostgreSQL says about the tables around it (pg_catalog)
    plan          the declaration reconciled with the catalog; planner keeps plans per engine
    request       SweepRequest / sweep(): one validated call (before, limit, ids, cascade_rbac)
    statements    the SQL that reads (conditions, candidates, lock, the walk, preview counts)
    deletes       the SQL that writes (delete, late links, a chunk of a parent's children)
    locks         the SQL that locks the rest of the tree (classify busy parents, families)
    executor      execute(): one request, one transaction
    result        PruneResult
"""

from core.repository.pruner.declaration import Blocker, Child, Link, Mention, Pruner, SetNull
from core.repository.pruner.executor import execute, execute_pruner
from core.repository.pruner.request import SweepRequest, sweep
from core.repository.pruner.result import PruneResult
from core.repository.pruner.statements import ArchiveTarget

__all__ = ["ArchiveTarget", "Blocker", "Child", "Link", "Mention", "PruneResult", "Pruner",
           "SetNull",
           "SweepRequest", "execute", "execute_pruner", "sweep"]
