"""Endpoint tokens that expired, by `expires_at` (a cutoff is never in the future, so a
qualifying token has expired), as the platform's `deployments` category. A token without an
expiry never qualifies. RBAC: 26.8 association rows ('deployment:token'); 26.9 has no node."""

from __future__ import annotations

from core.backendai.rbac import rbac
from core.backendai.variants import per_release, variant
from core.repository.pruner import Pruner

NAME = "endpoint_tokens"
CATEGORY = "deployments"

VARIANTS: tuple[Pruner, ...] = per_release(lambda s: variant(
    s.model, name=NAME, table=s.endpoint_tokens,
    terminal=s.endpoint_tokens.c.expires_at.is_not(None), timestamp="expires_at",
    links=rbac(s, s.endpoint_tokens), description="Endpoint tokens that expired"))
