"""Cached previews: reruns (every click) must not re-query the database for the same question.

The cache is shared by all sessions and keyed by the question (database, entity, cutoff, limit,
sample size). A prune clears it, so no page shows numbers from before the prune.
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st
from sqlalchemy.ext.asyncio import AsyncEngine

from console.context import call
from console.runtime import runtime_for
from core import registry
from core.backendai.retention import Policy, policies
from core.entities import RETENTION
from core.preview import Preview, preview
from core.repository.pruner import sweep
from core.settings import PruneSettings

PREVIEW_TTL_S = 300


@st.cache_data(ttl=PREVIEW_TTL_S, max_entries=64, show_spinner="Reading candidates…")
def cached_preview(database_url: str, entity: str, before: datetime, limit: int,
                   sample_size: int, settings: PruneSettings) -> Preview:
    async def run(db: AsyncEngine) -> Preview:
        req = sweep(await registry.resolve(db, entity), before=before, limit=limit,
                    settings=settings)
        return await preview(db, req, sample_size=sample_size, settings=settings)

    return call(runtime_for(database_url), run, f"previewing {entity}")


@st.cache_data(ttl=PREVIEW_TTL_S, max_entries=16, show_spinner=False)
def cached_fits(database_url: str, names: tuple[str, ...]) -> dict[str, str | None]:
    """`registry.fits`: each registered name (`names`, so a newly loaded module counts) -> None
    when it fits this database, else why not."""
    return call(runtime_for(database_url), registry.fits,
                "reading which pruners fit this database")


POLICIES_TTL_S = 60


@st.cache_data(ttl=POLICIES_TTL_S, max_entries=16, show_spinner=False)
def cached_policies(database_url: str) -> list[Policy]:
    """The platform's retention policies with the pruners covering each ([] without the
    table): `core.backendai.retention.policies`, as `pruner list` reads them."""
    async def run(db: AsyncEngine) -> list[Policy]:
        return await policies(db, RETENTION)

    return call(runtime_for(database_url), run, "reading the platform's retention policies")


def clear() -> None:
    cached_preview.clear()
    cached_policies.clear()
