"""The reference pruners. A new entity is one module here plus one line in PRUNERS."""

from core.entities import audit_logs, sessions, vfolders
from core.repository.pruner import Pruner

PRUNERS: tuple[Pruner, ...] = (
    sessions.PRUNER,
    vfolders.PRUNER,
    audit_logs.PRUNER,
)
