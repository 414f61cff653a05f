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


def clear() -> None:
    cached_preview.clear()
