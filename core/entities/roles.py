"""Roles marked deleted, by `deleted_at`, as the platform's `roles_invitations` category.

Their permissions and user assignments cascade (catalog, counted; 26.8 also role invitations,
26.9 permission fields). 26.8 `object_permissions.role_id` has no foreign key: a Link. 26.9:
the role's node and what hangs off it. A deleted role without `deleted_at` never qualifies.
"""

from __future__ import annotations

from core.backendai.facts import ROLE_DELETED
from core.backendai.rbac import rbac
from core.backendai.schema import Schema
from core.backendai.variants import per_release, variant
from core.repository.pruner import Link, Pruner

NAME = "roles"
CATEGORY = "roles_invitations"


def declare(s: Schema) -> Pruner:
    ro = s.roles
    links = rbac(s, ro)
    if s.rbac8 is not None:
        links += (Link(s.rbac8.object_permissions, "role_id"),)
    return variant(
        s.model, name=NAME, table=ro, terminal=ro.c.status.in_(ROLE_DELETED),
        timestamp="deleted_at", links=links,
        description="Deleted roles with their permissions and assignments")


VARIANTS: tuple[Pruner, ...] = per_release(declare)
