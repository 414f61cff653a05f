"""Building a plan: the declaration reconciled with the live catalog.

`build_plan(pruner, catalogs)` walks every foreign key that points at the pruned table, and at
each table that goes with it, and decides for each one:

    declared Child, matching one FK (composite FKs as a tuple)   -> delete, counted
    undeclared ON DELETE CASCADE                                  -> delete explicitly, counted
    undeclared ON DELETE SET NULL / SET DEFAULT                   -> block (or SetNull: update)
    undeclared NO ACTION / RESTRICT                               -> block, with the FK as reason
    a self-referencing FK on the pruned table                     -> families go together;
                                                                     a live descendant blocks
    Link (FK-less text ids, e.g. RBAC rows)                       -> delete, counted, and their
                                                                     own cascade tree too

A mismatch between declaration and catalog is a `DefinitionError` naming both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from core import errors
from core.repository.pruner.catalog import Catalog, ForeignKey, TableFacts
from core.repository.pruner.declaration import Blocker, Child, Link, Mention, Pruner
from core.repository.pruner.plan import TIMESTAMP_TYPES, Block, Nullify, Plan, Step


def _light_table(facts: TableFacts) -> sa.Table:
    """A SQLAlchemy Table for a table the declaration does not name (untyped columns: it only
    appears in conditions against the catalog's own columns)."""
    return sa.Table(facts.relname, sa.MetaData(),
                    *(sa.Column(c) for c in facts.columns), schema=facts.schema)


def _same_table(declared: sa.Table, facts: TableFacts) -> bool:
    return declared.name == facts.relname and (declared.schema in (None, facts.schema))


def _find(catalog: Catalog, table: sa.Table) -> TableFacts | None:
    for facts in catalog.tables.values():
        if _same_table(table, facts) and (table.schema or facts.name == facts.relname
                                          or facts.name.endswith("." + facts.relname)):
            return facts
    return None


def _mark(step: Step) -> tuple[str, ...]:
    if step.fk is not None:
        return ("fk", step.fk.name, step.fk.table)
    return ("link", step.link_label)


def _fk_text(fks: list[ForeignKey]) -> str:
    return "; ".join(fk.describe() for fk in fks) or "none"


class _Builder:
    def __init__(self, pruner: Pruner, catalogs: Mapping[str, Catalog]) -> None:
        self.p = pruner
        self.catalogs = catalogs
        self.root_catalog = catalogs[""]
        self.steps: list[Step] = []
        self.blocks: list[Block] = []
        self.nullify: list[Nullify] = []
        self.warnings: list[str] = []
        self.unindexed: list[ForeignKey] = []
        self.family: ForeignKey | None = None
        self.used_children: set[int] = set()
        self.used_blockers: set[int] = set()
        self.used_set_null: set[int] = set()
        self.light: dict[str, sa.Table] = {}
        self.mentions: list[tuple[int, Mention]] = []

    def table_for(self, facts: TableFacts) -> sa.Table:
        """The declaration's Table for it, else one Table object per catalog table."""
        for declared in [self.p.table, *(c.table for c in self.p.children),
                         *(b.table for b in self.p.blockers), *(s.table for s in self.p.set_null),
                         *(link.table for link in self.p.links)]:
            if _same_table(declared, facts):
                return declared
        return self.light.setdefault(facts.name, _light_table(facts))

    # -- the walk --------------------------------------------------------------------------
    def build(self) -> Plan:
        p, cat = self.p, self.root_catalog
        facts = cat.tables[cat.root]
        key = facts.key
        if not key:
            raise errors.DefinitionError(f"pruner {p.name}: {facts.name} has no primary key")
        declared = tuple(c.name for c in p.key)
        if declared != key:
            raise errors.DefinitionError(
                f"pruner {p.name}: the declared key of {facts.name} ({', '.join(declared)}) is "
                f"not its primary key ({', '.join(key)}, in that order)")
        missing = [c for c in key if c not in p.table.c]
        if missing:
            raise errors.DefinitionError(
                f"pruner {p.name}: declare the key column(s) {', '.join(missing)} of {facts.name}")
        boundary = self._boundary(facts)
        self.steps.append(Step(0, "root", p.table, facts, None, (), (), key))
        self._walk(0, cat)
        self._declared_blockers()
        self._check_everything_used()
        self._check_declared_columns()
        self._notes()
        return Plan(pruner=p, catalog=cat, steps=tuple(self.steps), blocks=tuple(self.blocks),
                    nullify=tuple(self.nullify), family=self.family, key=key, boundary=boundary,
                    zone=p.timezone, warnings=tuple(self.warnings),
                    fingerprint="|".join(c.fingerprint for c in self.catalogs.values()),
                    unindexed=tuple(self.unindexed), mentions=tuple(self.mentions))

    def _boundary(self, facts: TableFacts) -> str:
        col = facts.columns.get(self.p.timestamp)
        kind = TIMESTAMP_TYPES.get(col.type) if col else None
        if kind is None:
            raise errors.DefinitionError(
                f"pruner {self.p.name}: {facts.name}.{self.p.timestamp} is "
                f"{col.type if col else 'missing'} in the database; it must be a timestamp, "
                "timestamptz or date column")
        return kind

    def _walk(self, index: int, cat: Catalog) -> None:
        step = self.steps[index]
        for fk in cat.references_to(step.name):
            if fk.table == step.name and step.kind == "root":
                self._self_reference(fk)
                continue
            facts = cat.tables[fk.table]
            if fk.index is None and facts.rows != 0:
                self.unindexed.append(fk)
            child = self._declared_child(index, fk, cat)
            if child is not None:
                self._add(index, "child", facts, fk, cat, where=child.where)
                if child.where is not None:  # the other referencing rows must stay: they block
                    self.blocks.append(Block(
                        f"a row of {fk.table} outside {child.label}'s condition references "
                        f"it ({fk.name})", index, self.table_for(facts), fk.columns,
                        fk.ref_columns, sa.not_(child.where), True, fk))
                continue
            if fk.on_delete == "cascade":
                if fk.table == step.name:
                    raise errors.DefinitionError(
                        f"pruner {self.p.name}: {fk.describe()} is a self-reference below the "
                        "pruned table; declare a Blocker for it or prune that table on its own")
                self._add(index, "cascade", facts, fk, cat)
            elif fk.on_delete in ("set null", "set default") and self._allowed_set_null(fk):
                self.nullify.append(Nullify(index, self.table_for(facts), fk.columns,
                                            fk.ref_columns, facts.key, fk))
            else:
                what = ("would be set to NULL" if fk.on_delete == "set null" else
                        "would be reset to its default" if fk.on_delete == "set default" else
                        "references it")
                self.blocks.append(Block(
                    f"a row of {fk.table} {what} ({fk.name}, ON DELETE "
                    f"{fk.on_delete.upper()})", index, self.table_for(facts), fk.columns,
                    fk.ref_columns, None, True, fk))
        self._links_of(index)

    def _add(self, parent: int, kind: str, facts: TableFacts, fk: ForeignKey, cat: Catalog, *,
             where: ColumnElement[bool] | None = None) -> None:
        if self._repeats(parent, ("fk", fk.name, fk.table)):
            return  # a cycle in the schema: deep enough
        index = len(self.steps)
        self.steps.append(Step(index, kind, self.table_for(facts), facts, parent, fk.columns,
                               fk.ref_columns, facts.key, where=where, fk=fk))
        self._walk(index, cat)

    def _repeats(self, parent: int | None, mark: tuple[str, ...]) -> bool:
        """Whether `mark` (an FK or a link) stands twice already on the path to `parent`."""
        seen = 0
        while parent is not None:
            s = self.steps[parent]
            if s.index and _mark(s) == mark:
                seen += 1
            parent = s.parent
        return seen >= self.p.max_repeat

    def _links_of(self, index: int) -> None:
        step = self.steps[index]
        for mention in self.p.mentions:
            target = self.p.table.name if mention.of is None else mention.of
            if target == step.facts.relname and not any(
                    m is mention for _, m in self.mentions):
                self.mentions.append((index, mention))
        for link in self.p.links:
            target = self.p.table.name if link.of is None else link.of
            if target == step.facts.relname:
                self._link(index, link)

    def _link(self, parent: int, link: Link) -> None:
        cat = self.catalogs.get(link.table.name)
        facts = _find(cat, link.table) if cat else None
        if cat is None or facts is None:
            raise errors.SchemaMissing(
                f"pruner {self.p.name}: linked table {link.table.name} does not exist")
        if self._repeats(parent, ("link", link.label)):
            return
        parent_step = self.steps[parent]
        if len(parent_step.key) != 1:
            raise errors.DefinitionError(
                f"pruner {self.p.name}: {link.label} names a row by one id, but "
                f"{parent_step.name} has a composite key")
        where = None
        if link.type_column is not None:
            where = link.table.c[link.type_column] == sa.literal(link.type_value)
        index = len(self.steps)
        self.steps.append(Step(index, "link", link.table, facts, parent, (link.id_column,),
                               parent_step.key, facts.key, where=where, rbac=link.rbac,
                               link_label=link.label))
        self._walk(index, cat)

    def _self_reference(self, fk: ForeignKey) -> None:
        if fk.on_delete in ("cascade", "no action"):
            self.family = fk
            return
        self.blocks.append(Block(
            f"another {fk.table} row references it ({fk.name}, ON DELETE "
            f"{fk.on_delete.upper()})", 0, self.p.table, fk.columns, fk.ref_columns, None, True,
            fk))

    # -- declarations against the catalog --------------------------------------------------
    def _declared_child(self, index: int, fk: ForeignKey, cat: Catalog) -> Child | None:
        step = self.steps[index]
        for i, child in enumerate(self.p.children):
            if _same_table(child.table, cat.tables[fk.table]) and \
                    child.on == fk.columns and fk.ref_table == step.name:
                self.used_children.add(i)
                return child
        return None

    def _allowed_set_null(self, fk: ForeignKey) -> bool:
        for i, s in enumerate(self.p.set_null):
            if s.table.name == fk.table.split(".")[-1].strip('"') and s.on == fk.columns:
                self.used_set_null.add(i)
                return True
        return False

    def _declared_blockers(self) -> None:
        for i, b in enumerate(self.p.blockers):
            self.used_blockers.add(i)
            if b.on is None:
                self.blocks.append(Block(b.reason, 0, b.table, None, (), b.where, False))
                continue
            fk = self._fk_of(b)
            ref = fk.ref_columns if fk else self.steps[0].key
            if len(ref) != len(b.on):
                raise errors.DefinitionError(
                    f"pruner {self.p.name}: Blocker({b.table.name}, on=({', '.join(b.on)})) has "
                    f"{len(b.on)} column(s); {self.steps[0].name}'s key has {len(ref)}")
            self.blocks.append(Block(b.reason, 0, b.table, b.on, ref, b.where, False, fk))
            if b.where is not None:  # a guard on rows the prune deletes is re-checked then
                for n, s in enumerate(self.steps):
                    if s.parent == 0 and s.columns == b.on and s.table is b.table:
                        self.steps[n] = Step(**{**s.__dict__, "guard": b.where,
                                                "guard_reason": b.reason})
        # a declared blocker without `where` replaces the automatic one of the same FK
        declared = {(b.table.name, b.columns) for b in self.blocks if not b.automatic
                    and b.where is None}
        self.blocks = [b for b in self.blocks if not (
            b.automatic and b.step == 0 and (b.table.name, b.columns) in declared)]

    def _fk_of(self, b: Blocker) -> ForeignKey | None:
        root = self.steps[0].name
        for fk in self.root_catalog.references_to(root):
            if fk.columns == b.on and _same_table(b.table, self.root_catalog.tables[fk.table]):
                return fk
        return None

    def _check_everything_used(self) -> None:
        root = self.steps[0]
        for i, child in enumerate(self.p.children):
            if i in self.used_children:
                continue
            facts = _find(self.root_catalog, child.table)
            fks = [fk for fk in self.root_catalog.foreign_keys
                   if facts is not None and fk.table == facts.name]
            raise errors.DefinitionError(
                f"pruner {self.p.name}: {child.label} matches no foreign key of "
                f"{child.table.name} to {root.name} (composite keys match as a whole, in "
                f"order); the catalog has: {_fk_text(fks)}")
        for i, s in enumerate(self.p.set_null):
            if i not in self.used_set_null:
                raise errors.DefinitionError(
                    f"pruner {self.p.name}: SetNull({s.table.name}, on=({', '.join(s.on)})) "
                    "matches no ON DELETE SET NULL / SET DEFAULT foreign key")

    def _check_declared_columns(self) -> None:
        """A declared Table stands for its table in every statement: it must declare every
        column the plan matches on (keys, foreign keys, what children reference)."""
        wanted: dict[int, set[str]] = defaultdict(set)
        for s in self.steps:
            wanted[s.index] |= set(s.key) | set(s.columns)
            if s.parent is not None:
                wanted[s.parent] |= set(s.ref_columns)
        for n in self.nullify:
            wanted[n.step] |= set(n.ref_columns)
        if self.family is not None:
            wanted[0] |= set(self.family.columns) | set(self.family.ref_columns)
        for s in self.steps:
            if s.table is self.light.get(s.name):
                continue
            missing = sorted(c for c in wanted[s.index] if c not in s.table.c)
            if missing:
                raise errors.DefinitionError(
                    f"pruner {self.p.name}: declare column(s) {', '.join(missing)} of "
                    f"{s.table.name}: the plan matches on them (keys and foreign keys)")

    def _notes(self) -> None:
        for s in self.steps:
            for t in s.facts.triggers:
                if "DELETE" in t.events:
                    self.warnings.append(f"{t.describe()} runs for every row the prune deletes "
                                         "from it; a BEFORE trigger can veto the delete")
            if s.facts.row_security:
                names = ", ".join(p.name for p in s.facts.policies) or "none"
                self.warnings.append(f"row-level security applies to {s.name} for this role "
                                     f"(policies: {names}); rows it hides are not deleted")
        for n in self.nullify:
            facts = self.root_catalog.tables.get(n.fk.table)
            for t in facts.triggers if facts else ():
                if "UPDATE" in t.events:
                    self.warnings.append(f"{t.describe()} runs for every row set to NULL")


def build_plan(pruner: Pruner, catalogs: Mapping[str, Catalog]) -> Plan:
    """The plan of `pruner` on the database the catalogs were read from. `catalogs[""]` is the
    pruned table's; `catalogs[name]` that of each linked table. Raises DefinitionError when the
    declaration does not fit the catalog."""
    return _Builder(pruner, catalogs).build()
