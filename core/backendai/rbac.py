"""The RBAC rows of each model as Links: every row that names a pruned entity goes with it,
counted, in both directions (the entity as entity and as scope).

26.8 (text ids, no foreign key anywhere):
    association_scopes_entities   (entity_type, entity_id) and (scope_type, scope_id)
    object_permissions            (entity_type, entity_id)
    permissions                   (scope_type, scope_id): grants scoped to the entity
    virtual_scopes                (scope_type, scope_id), with its memberships and bindings
    entity_memberships            (entity_type, entity_id)
    scope_bindings                (scope_type, scope_id)

26.9 (graph): the entity's node in `virtual_entities` (entity_type, entity_id). Its foreign-key
cascade (memberships both ways, caps and fields, bindings both ways, roles scoped to it with
their permissions and user_roles, shares naming it) is read from the catalog and counted per
table; the nodes of those roles and shares go too (Link of=roles / of=entity_shares), and the
FK-less `entity_labels` of every deleted node's (type, id).
"""

from __future__ import annotations

import sqlalchemy as sa

from core.backendai.facts import NODE_TYPES, RBAC8_TYPES
from core.backendai.schema import Graph9, Rbac8, Schema
from core.repository.pruner import Link


def rbac8_links(r: Rbac8, entity_type: str, of: sa.Table | None = None) -> tuple[Link, ...]:
    """Every 26.8 RBAC row naming an `entity_type` row of `of` (default: the pruned table)."""
    a = r.association_scopes_entities
    return (
        Link(a, "entity_id", "entity_type", entity_type, of=of),
        Link(a, "scope_id", "scope_type", entity_type, of=of),
        Link(r.object_permissions, "entity_id", "entity_type", entity_type, of=of),
        Link(r.permissions, "scope_id", "scope_type", entity_type, of=of),
        Link(r.virtual_scopes, "scope_id", "scope_type", entity_type, of=of),
        Link(r.entity_memberships, "entity_id", "entity_type", entity_type, of=of),
        Link(r.scope_bindings, "scope_id", "scope_type", entity_type, of=of),
    )


def graph_links(g: Graph9, root: sa.Table, *nodes: tuple[str, sa.Table | None]
                ) -> tuple[Link, ...]:
    """26.9: the node and the labels of each (node type, table) — table None: the pruned table
    `root` — and of the roles and shares their foreign-key cascade takes with them."""
    wanted: dict[tuple[str, str], sa.Table | None] = {}
    for node_type, of in nodes:
        wanted.setdefault((node_type, (root if of is None else of).name), of)
    for node_type, table in (("role", g.roles), ("entity_share", g.entity_shares)):
        wanted.setdefault((node_type, table.name), None if table is root else table)
    out: list[Link] = []
    for (node_type, _), of in wanted.items():
        out += [Link(g.virtual_entities, "entity_id", "entity_type", node_type, of=of),
                Link(g.entity_labels, "entity_id", "entity_type", node_type, of=of)]
    return tuple(out)


def rbac(s: Schema, root: sa.Table, *entities: sa.Table) -> tuple[Link, ...]:
    """The RBAC links of `s`'s model for the pruned table `root` and the other entity tables
    whose rows a prune deletes with it (e.g. kernels), by the type names in `facts`. A table
    the model gives no RBAC rows gets none."""
    tables = (root, *entities)
    if s.rbac8 is not None:
        out: list[Link] = []
        for t in tables:
            entity_type = RBAC8_TYPES.get(t.name)
            if entity_type is not None:
                out += rbac8_links(s.rbac8, entity_type, None if t is root else t)
        return tuple(out)
    if s.graph is not None:
        nodes = [(NODE_TYPES[t.name], None if t is root else t) for t in tables
                 if t.name in NODE_TYPES]
        return graph_links(s.graph, root, *nodes) if nodes else ()
    return ()
