"""Pruners by name: the reference ones (`core.entities`) plus any registered by user modules.

One name may have several declarations, one per schema version (each says what it `requires`);
`resolve(db, name)` picks the one whose tables and columns the live catalog has, and refuses
with one line naming what is missing when none fits. Entry points load the user modules named
in PRUNER_MODULES with `load_modules` (the CLI, the console and the notebook do).
"""

from __future__ import annotations

import importlib
import weakref
from collections.abc import Iterable

from sqlalchemy.engine import Engine

from core import entities, errors
from core.db import Database, transaction
from core.repository.pruner import Pruner
from core.repository.pruner.catalog import existing
from core.settings import MODULES_ENV

_pruners: dict[str, list[Pruner]] = {}
_chosen: weakref.WeakKeyDictionary[Engine, dict[str, Pruner]] = weakref.WeakKeyDictionary()


def register(pruner: Pruner) -> Pruner:
    """Register a pruner under its name. Re-registering the very same object is a no-op; another
    declaration under a taken name is a DefinitionError unless both say what they `require`
    (the database then chooses), so nothing silently replaces a reviewed definition."""
    if not isinstance(pruner, Pruner):
        raise errors.DefinitionError(f"register() takes a Pruner, got {type(pruner).__name__}")
    existing = _pruners.setdefault(pruner.name, [])
    if any(p is pruner for p in existing):
        return pruner
    if existing and not (pruner.requires and all(p.requires for p in existing)):
        raise errors.DefinitionError(f"a pruner named {pruner.name!r} is already registered")
    if any(p.requires == pruner.requires for p in existing):
        raise errors.DefinitionError(
            f"a pruner named {pruner.name!r} with the same requirements is already registered")
    existing.append(pruner)
    return pruner


for _p in entities.PRUNERS:
    register(_p)


def load_modules(modules: Iterable[str]) -> list[str]:
    """Import the named modules (they call `register`); a module that fails to import is a
    DefinitionError naming it and why."""
    names = [m for m in modules if m]
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # an operator must see which module broke and why
            raise errors.DefinitionError(
                f"{MODULES_ENV}: could not import {name!r}: {type(exc).__name__}: {exc}"
            ) from exc
    return names


def names() -> list[str]:
    return sorted(_pruners)


def get(name: object) -> Pruner:
    """The pruner registered as `name` (the first declaration when there are several: use
    `resolve` to let the database choose); anything else is UnknownEntity listing the known
    ones."""
    return variants(name)[0]


def variants(name: object) -> list[Pruner]:
    if not isinstance(name, str) or name not in _pruners:
        shown = repr(name) if len(repr(name)) <= 60 else repr(name)[:57] + "..."
        raise errors.UnknownEntity(
            f"unknown entity {shown}; known: {', '.join(sorted(_pruners)) or 'none'}"
        )
    return list(_pruners[name])


def all_pruners() -> list[Pruner]:
    return [_pruners[n][0] for n in names()]




async def resolve(db: Database, name: object) -> Pruner:
    """The declaration of `name` that fits the database: the only one, or the first whose
    `requires` all exist. Raises UnknownEntity for a name nobody registered and SchemaMissing
    ("unsupported schema: …") when no declaration fits, naming what each model misses."""
    options = variants(name)
    if len(options) == 1 and not options[0].requires:
        return options[0]
    assert isinstance(name, str)
    engine = getattr(db, "sync_engine", None) or getattr(getattr(db, "bind", None),
                                                         "sync_engine", None)
    cache = _chosen.setdefault(engine, {}) if engine is not None else {}
    if name in cache:
        return cache[name]
    wanted = sorted({r for p in options for r in p.requires})
    async with transaction(db, f"reading which schema {name} runs on") as conn:
        found = await existing(conn, wanted)
    misses = []
    for p in options:
        missing = [r for r in p.requires if not found.get(r)]
        if not missing:
            cache[name] = p
            return p
        misses.append(f"{p.model or 'a model'} needs {_needs(missing)}")
    raise errors.SchemaMissing(f"unsupported schema for {name}: {'; '.join(misses)}")


MAX_NAMED = 6  # missing requirements named per model; the rest are counted


def _needs(missing: list[str]) -> str:
    """What a model misses, short: a missing table stands for its columns, and after
    MAX_NAMED names the rest are counted."""
    tables = {m for m in missing if "." not in m}
    items = [m for m in missing if "." not in m or m.split(".", 1)[0] not in tables]
    more = len(items) - MAX_NAMED
    return ", ".join(items[:MAX_NAMED]) + (f" and {more} more" if more > 0 else "")
