"""What a prune (or its rehearsal) did."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any


def plain(value: Any) -> Any:
    """An id as JSON can carry it (uuids as text, composite keys as lists)."""
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class PruneResult:
    """`count` entity rows deleted (or, for a rehearsal, that would be), their `ids` oldest
    first (a tuple per row for a composite key), `deleted` rows per table (the entity's own
    first, then the cascade tree and linked rows), `updated` rows per table set to NULL, the
    `cutoff` and `limit` used; `busy` parents were held by another transaction and left for a
    later batch; requested ids that were not pruned are `skipped`, each with its reason in
    `skip_reasons` ("did not qualify", "over the limit", "busy"). `position` is the last
    (timestamp, *key) taken (a drain's keyset position). `run_id` / `pruned_at` are set by the
    journaled workflows (`core.operations`)."""

    entity: str
    cutoff: datetime
    limit: int
    count: int
    ids: list[Any]
    deleted: dict[str, int]
    updated: dict[str, int] = field(default_factory=dict)
    busy: int = 0
    cascade_rbac: bool = True
    dry_run: bool = False
    skipped: list[Any] = field(default_factory=list)
    skip_reasons: dict[str, str] = field(default_factory=dict)
    position: tuple[Any, ...] | None = None
    run_id: int | None = None
    pruned_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        # shallow: `asdict` deep-copies every id first (1 s of a 100k-row CLI prune here), and
        # the ids are replaced by their plain values below anyway
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        for k in ("deleted", "updated", "skip_reasons"):
            d[k] = dict(d[k])
        d["cutoff"] = self.cutoff.isoformat()
        d["pruned_at"] = self.pruned_at.isoformat() if self.pruned_at else None
        d["ids"] = [plain(i) for i in self.ids]
        d["skipped"] = [plain(i) for i in self.skipped]
        d["position"] = None if self.position is None else plain(self.position)
        return d
