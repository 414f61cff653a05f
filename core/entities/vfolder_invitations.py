"""Vfolder invitations that were declined (rejected, canceled), by `modified_at` (26.8 only), as
the platform's `roles_invitations` category."""

from __future__ import annotations

from core.backendai.facts import INVITATION_DECLINED
from core.backendai.kinds import table_pruner

NAME = "vfolder_invitations"
CATEGORY = "roles_invitations"
VARIANTS = table_pruner(NAME, NAME, "modified_at", "Rejected or canceled vfolder invitations",
                        terminal=lambda t: t.c.state.in_(INVITATION_DECLINED))
