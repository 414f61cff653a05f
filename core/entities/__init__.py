"""The reference pruners. A new entity is one module here plus one line below."""

from core.entities import audit_logs, sessions, vfolders
from core.registry import register

register(sessions.PRUNER)
register(vfolders.PRUNER)
register(audit_logs.PRUNER)
