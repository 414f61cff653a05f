"""Shares that ended (canceled, rejected, revoked), by `updated_at` (26.9 only), as the
platform's `roles_invitations` category. The share's node goes with it (its cascade: the
roles scoped to it, memberships, bindings), and its labels."""

from __future__ import annotations

from core.backendai.facts import SHARE_TERMINAL
from core.backendai.kinds import table_pruner
from core.backendai.rbac import rbac

NAME = "entity_shares"
CATEGORY = "roles_invitations"
VARIANTS = table_pruner(NAME, NAME, "updated_at",
                        "Canceled, rejected or revoked shares and their RBAC nodes",
                        terminal=lambda t: t.c.status.in_(SHARE_TERMINAL),
                        links=lambda s, t: rbac(s, t))
