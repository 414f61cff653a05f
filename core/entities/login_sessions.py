"""Login sessions that were closed (invalidated or revoked), by `invalidated_at`: an active one
is someone's live login. A closed one without `invalidated_at` never qualifies (as the
platform's `login` category)."""

from __future__ import annotations

from core.backendai.facts import LOGIN_SESSION_CLOSED
from core.backendai.variants import per_release, variant
from core.repository.pruner import Pruner

NAME = "login_sessions"
CATEGORY = "login"

VARIANTS: tuple[Pruner, ...] = per_release(lambda s: variant(
    s.model, name=NAME, table=s.login_sessions,
    terminal=s.login_sessions.c.status.in_(LOGIN_SESSION_CLOSED), timestamp="invalidated_at",
    description="Invalidated or revoked login sessions"))
