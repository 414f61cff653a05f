"""Shares that ended (canceled, rejected, revoked), by `updated_at` (26.9 only), as the
platform's `roles_invitations` category. The share's node goes with it (its cascade: the
roles scoped to it, memberships, bindings), and its labels."""

from __future__ import annotations

from core.backendai.facts import SHARE_TERMINAL
from core.backendai.rbac import rbac
from core.backendai.schema import Schema
from core.backendai.variants import per_release, variant
from core.repository.pruner import Pruner

NAME = "entity_shares"
CATEGORY = "roles_invitations"


def declare(s: Schema) -> Pruner | None:
    sh = s.entity_shares
    if sh is None:
        return None
    return variant(
        s.model, name=NAME, table=sh, terminal=sh.c.status.in_(SHARE_TERMINAL),
        timestamp="updated_at", links=rbac(s, sh),
        description="Canceled, rejected or revoked shares and their RBAC nodes")


VARIANTS: tuple[Pruner, ...] = per_release(declare)
