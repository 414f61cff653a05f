"""Shared by the real-schema tier's conftest and tests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

SEED_SESSIONS = 300  # small: the tier checks shape and coverage, not volume


@dataclass
class Seeded:
    """A freshly loaded and seeded database of one release."""

    release: str
    engine: AsyncEngine
    counts: dict[str, int]
    meta: dict
    load_seconds: float
    seed_seconds: float
