"""Purged vfolders: the storage proxy confirmed the data is gone (`delete-complete`); only the
database row is left.

Not terminal: `delete-error` (storage may still hold data; the platform's purge refuses it),
`delete-ongoing` (storage is working on it), `delete-pending` (the trash: restorable). The
guards are the platform purge's own list, plus the attachment table; each is a Blocker with a
reason an operator can read:

    a model card uses it                                   (model_cards, ON DELETE RESTRICT)
    attached to a kernel that is not terminated            (vfolder_attachment)
    the model of a revision of an endpoint not destroyed   (deployment_revisions.model)
    an extra mount of such a revision                      (deployment_revisions.extra_mounts)
    mounted by a session or kernel not terminated          (vfolder_mounts JSON, by `vfid`)

ERROR sessions and kernels still count as users of a folder (they may be retried), as in the
platform's purge. A revision of a destroyed endpoint keeps the revision but loses its `model`
(ON DELETE SET NULL, declared: counted as updated). Attachments, permissions, invitations and
mount policies cascade (catalog, counted); RBAC rows go both ways (26.8: association rows,
object permissions and the grants scoped to the folder, which the platform's purge deletes too;
26.9: the folder's node and what hangs off it).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from core.backendai.facts import ENDPOINT_DESTROYED, MODELLED, MOUNT_RELEASED, VFOLDER_PURGED
from core.backendai.rbac import rbac
from core.backendai.schema import Schema
from core.backendai.variants import per_release, variant
from core.entities.rbac import association_links
from core.reference_schema import VFOLDER_HARD_DELETED, model_cards, vfolders
from core.repository.pruner import Blocker, Pruner, SetNull

NAME = "vfolders"
CATEGORY = None  # the platform has no retention category for vfolders (only its purge API)


def vfid(v: sa.Table) -> sa.ColumnElement[Any]:
    """`[{"vfid": "<quota_scope_id>/<folder id, 32 hex>"}]`: what a mount of the folder holds in
    `vfolder_mounts` (containment, as the platform's guard; sessions have a GIN index on it)."""
    return sa.func.jsonb_build_array(sa.func.jsonb_build_object(
        sa.literal("vfid"), v.c.quota_scope_id + sa.literal("/") +
        sa.func.replace(sa.cast(v.c.id, sa.Text), sa.literal("-"), sa.literal(""))))


def declare(s: Schema) -> Pruner:
    v, k, ss, r, e = s.vfolders, s.kernels, s.sessions, s.deployment_revisions, s.endpoints
    att = s.vfolder_attachment
    live_endpoint = sa.exists().where(e.c.id == r.c.endpoint,
                                      e.c.lifecycle_stage != ENDPOINT_DESTROYED)
    extra = sa.func.jsonb_build_array(sa.func.jsonb_build_object(
        sa.literal("vfolder_id"), sa.cast(v.c.id, sa.Text)))
    return variant(
        s.model, name=NAME, table=v, terminal=v.c.status.in_(VFOLDER_PURGED),
        timestamp="status_changed",
        blockers=(
            Blocker(s.model_cards, on="vfolder",
                    reason="a model card uses it (ON DELETE RESTRICT)"),
            Blocker(att, on="vfolder",
                    where=sa.exists().where(k.c.id == att.c.kernel,
                                            k.c.status.not_in(MOUNT_RELEASED)),
                    reason="attached to a kernel that is not terminated (vfolder_attachment)"),
            Blocker(r, on="model", where=live_endpoint,
                    reason="the model of a deployment revision whose endpoint is not destroyed"),
            Blocker(r, on=None, where=sa.and_(r.c.extra_mounts.contains(extra), live_endpoint),
                    reason="an extra mount of a deployment revision whose endpoint is not "
                           "destroyed (extra_mounts)"),
            Blocker(ss, on=None, where=sa.and_(ss.c.status.not_in(MOUNT_RELEASED),
                                               ss.c.vfolder_mounts.contains(vfid(v))),
                    reason="mounted by a session that is not terminated (vfolder_mounts)"),
            Blocker(k, on=None, where=sa.and_(k.c.status.not_in(MOUNT_RELEASED),
                                              k.c.vfolder_mounts.contains(vfid(v))),
                    reason="mounted by a kernel that is not terminated (vfolder_mounts)"),
        ),
        set_null=(SetNull(r, on="model"),),
        links=rbac(s, v),
        description="Purged (delete-complete) vfolders no live session, kernel or deployment "
                    "uses, with their RBAC rows")


MODELLED_PRUNER = variant(
    MODELLED, name=NAME, table=vfolders, terminal=vfolders.c.status.in_(VFOLDER_HARD_DELETED),
    timestamp="status_changed",
    blockers=(Blocker(model_cards, on="vfolder", reason="a model card still uses it (RESTRICT)"),),
    links=association_links("vfolder"),
    description="Vfolders whose storage was deleted, with their permissions and RBAC rows",
)

VARIANTS: tuple[Pruner, ...] = (MODELLED_PRUNER, *per_release(declare))
