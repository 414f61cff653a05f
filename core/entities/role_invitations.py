"""Role invitations that were declined (rejected, canceled), by `updated_at` (26.8 only), as the
platform's `roles_invitations` category. One without `updated_at` never qualifies."""

from __future__ import annotations

from core.backendai.facts import INVITATION_DECLINED
from core.backendai.kinds import table_pruner

NAME = "role_invitations"
CATEGORY = "roles_invitations"
VARIANTS = table_pruner(NAME, NAME, "updated_at", "Rejected or canceled role invitations",
                        terminal=lambda t: t.c.state.in_(INVITATION_DECLINED))
