"""RBAC rows of the modelled schema: `association_scopes_entities` names an entity as text, as
the entity (`entity_type`, `entity_id`) and as a scope (`scope_type`, `scope_id`), with no
foreign key. A complete cleanup removes both directions."""

from __future__ import annotations

import sqlalchemy as sa

from core.reference_schema import association_scopes_entities
from core.repository.pruner import Link


def association_links(entity_type: str, of: sa.Table | None = None) -> tuple[Link, Link]:
    """The two directions in which `entity_type` rows (of `of`, default the pruned table)
    appear in the association table."""
    t = association_scopes_entities
    return (Link(t, "entity_id", "entity_type", entity_type, of=of),
            Link(t, "scope_id", "scope_type", entity_type, of=of))
