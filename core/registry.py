"""Pruners by name: the reference ones plus any the user registers through PRUNER_MODULES."""

from __future__ import annotations

import importlib
import os

from core import errors
from core.repository.pruner import Pruner

MODULES_ENV = "PRUNER_MODULES"

_pruners: dict[str, Pruner] = {}
_loaded_env: str | None = None


def register(pruner: Pruner) -> Pruner:
    """Register a pruner under its name. Re-registering the very same object is a no-op; another
    pruner under a taken name is an error, so nothing silently replaces a reviewed definition."""
    if not isinstance(pruner, Pruner):
        raise errors.DefinitionError(f"register() takes a Pruner, got {type(pruner).__name__}")
    existing = _pruners.get(pruner.name)
    if existing is not None and existing is not pruner:
        raise errors.DefinitionError(f"a pruner named {pruner.name!r} is already registered")
    _pruners[pruner.name] = pruner
    return pruner


def load_user_modules(spec: str | None = None) -> list[str]:
    """Import the comma-separated modules named in PRUNER_MODULES (they call `register`)."""
    spec = os.environ.get(MODULES_ENV, "") if spec is None else spec
    names = [m.strip() for m in spec.split(",") if m.strip()]
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # an operator must see which module broke and why
            raise errors.DefinitionError(
                f"{MODULES_ENV}: could not import {name!r}: {type(exc).__name__}: {exc}"
            ) from exc
    return names


def _ensure_loaded() -> None:
    global _loaded_env
    import core.entities  # noqa: F401  (registers the reference pruners)

    env = os.environ.get(MODULES_ENV, "")
    if env != _loaded_env:
        load_user_modules(env)
        _loaded_env = env


def names() -> list[str]:
    _ensure_loaded()
    return sorted(_pruners)


def get(name: object) -> Pruner:
    _ensure_loaded()
    if not isinstance(name, str) or name not in _pruners:
        shown = repr(name) if len(repr(name)) <= 60 else repr(name)[:57] + "..."
        raise errors.UnknownEntity(
            f"unknown entity {shown}; known: {', '.join(sorted(_pruners)) or 'none'}"
        )
    return _pruners[name]


def all_pruners() -> list[Pruner]:
    return [get(n) for n in names()]
