"""Hard-deleted vfolders: storage is gone (delete-complete) or given up on (delete-error); only the
database row is left. `delete-pending` (trash) and `delete-ongoing` are not terminal: the first can
still be restored, the second is being worked on by a storage proxy. Permissions cascade (from
the catalog); a model card (RESTRICT) keeps the folder."""

from core.entities.rbac import association_links
from core.reference_schema import VFOLDER_HARD_DELETED, model_cards, vfolders
from core.repository.pruner import Blocker, Pruner

PRUNER = Pruner(
    name="vfolders",
    table=vfolders,
    terminal=vfolders.c.status.in_(VFOLDER_HARD_DELETED),
    timestamp="status_changed",
    blockers=(Blocker(model_cards, on="vfolder", reason="a model card still uses it (RESTRICT)"),),
    links=association_links("vfolder"),
    description="Vfolders whose storage was deleted, with their permissions and RBAC rows",
)
