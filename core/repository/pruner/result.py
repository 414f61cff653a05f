"""What a prune (or its rehearsal) did."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else value


@dataclass(frozen=True)
class PruneResult:
    """`count` entity rows deleted (or, for a rehearsal, that would be), their `ids` oldest
    first, `deleted` rows per table (the entity's own first), the `cutoff` and `limit` used, and
    the requested ids that did not qualify (`skipped`). `run_id` / `pruned_at` are set by the
    journaled workflows (`core.operations`)."""

    entity: str
    cutoff: datetime
    limit: int
    count: int
    ids: list[Any]
    deleted: dict[str, int]
    cascade_rbac: bool = True
    dry_run: bool = False
    skipped: list[Any] = field(default_factory=list)
    run_id: int | None = None
    pruned_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["cutoff"] = self.cutoff.isoformat()
        d["pruned_at"] = self.pruned_at.isoformat() if self.pruned_at else None
        d["ids"] = [_plain(i) for i in self.ids]
        d["skipped"] = [_plain(i) for i in self.skipped]
        return d
