"""Hard-deleted vfolders: storage is gone (delete-complete) or given up on (delete-error); only the
database row is left. `delete-pending` (trash) and `delete-ongoing` are not terminal: the first can
still be restored, the second is being worked on by a storage proxy."""

from core.reference_schema import VFOLDER_HARD_DELETED, model_cards, vfolder_permissions, vfolders
from core.repository.pruner import Blocker, Child, Pruner

PRUNER = Pruner(
    name="vfolders",
    table=vfolders,
    terminal=vfolders.c.status.in_(VFOLDER_HARD_DELETED),
    timestamp="status_changed",
    children=(Child(vfolder_permissions, on="vfolder"),),
    blockers=(Blocker(model_cards, on="vfolder", reason="a model card still uses it (RESTRICT)"),),
    rbac_entity_type="vfolder",
    description="Vfolders whose storage was deleted, with their permissions and RBAC rows",
)
