"""The release tags a seed statement carries: the schemas (26.8, 26.9) it runs on."""

from __future__ import annotations

from typing import TypeAlias

R88 = frozenset({"26.8"})
R99 = frozenset({"26.9"})
BOTH = R88 | R99

# (releases, statement): a statement runs on a schema whose release is in its set.
Statements: TypeAlias = list[tuple[frozenset[str], str]]
