"""Vfolder invitations that were declined (rejected, canceled), by `modified_at` (26.8 only), as
the platform's `roles_invitations` category."""

from __future__ import annotations

from core.backendai.facts import INVITATION_DECLINED
from core.backendai.schema import Schema
from core.backendai.variants import per_release, variant
from core.repository.pruner import Pruner

NAME = "vfolder_invitations"
CATEGORY = "roles_invitations"


def declare(s: Schema) -> Pruner | None:
    t = s.vfolder_invitations
    if t is None:
        return None
    return variant(s.model, name=NAME, table=t, terminal=t.c.state.in_(INVITATION_DECLINED),
                   timestamp="modified_at",
                   description="Rejected or canceled vfolder invitations")


VARIANTS: tuple[Pruner, ...] = per_release(declare)
