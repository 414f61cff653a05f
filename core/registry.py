"""Pruners by name: the reference ones (`core.entities`) plus any registered by user modules.

Entry points load the user modules named in PRUNER_MODULES with `load_modules` (the CLI, the
console and the notebook do); a library caller may import its own module instead.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from core import entities, errors
from core.repository.pruner import Pruner
from core.settings import MODULES_ENV

_pruners: dict[str, Pruner] = {p.name: p for p in entities.PRUNERS}


def register(pruner: Pruner) -> Pruner:
    """Register a pruner under its name. Re-registering the very same object is a no-op; another
    pruner under a taken name is a DefinitionError, so nothing silently replaces a reviewed
    definition."""
    if not isinstance(pruner, Pruner):
        raise errors.DefinitionError(f"register() takes a Pruner, got {type(pruner).__name__}")
    existing = _pruners.get(pruner.name)
    if existing is not None and existing is not pruner:
        raise errors.DefinitionError(f"a pruner named {pruner.name!r} is already registered")
    _pruners[pruner.name] = pruner
    return pruner


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
    """The pruner registered as `name`; anything else is UnknownEntity listing the known ones."""
    if not isinstance(name, str) or name not in _pruners:
        shown = repr(name) if len(repr(name)) <= 60 else repr(name)[:57] + "..."
        raise errors.UnknownEntity(
            f"unknown entity {shown}; known: {', '.join(sorted(_pruners)) or 'none'}"
        )
    return _pruners[name]


def all_pruners() -> list[Pruner]:
    return [_pruners[n] for n in names()]
