"""The console's write paths, called directly (no UI): no access or read-only means no prune."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from console import actions
from console.access import decide
from console.context import ConsoleContext
from console.runtime import Runtime
from console.settings import ConsoleSettings
from core import journal
from core.reference_schema import sessions
from tests.factories import add_session, count

pytestmark = pytest.mark.timeout(120)


def context(url: str, *, read_only: bool = False, operator: str | None = "op@test",
            ) -> ConsoleContext:
    settings = ConsoleSettings(database_url=url, read_only=read_only,
                               console_password="s3cret" if operator else None)
    return ConsoleContext(settings, decide(settings, operator), Runtime(url))


def request(kind: str = "oldest") -> actions.PruneRequest:
    return actions.PruneRequest(kind, "sessions", datetime.now(UTC) - timedelta(days=7), 10)  # type: ignore[arg-type]


@pytest.mark.parametrize("read_only, operator", [(True, "op@test"), (False, None)])
async def test_every_write_path_refuses(db: AsyncEngine, database_url: str, read_only: bool,
                                        operator: str | None) -> None:
    await add_session(db, age_days=30)
    ctx = context(database_url, read_only=read_only, operator=operator)
    try:
        plan = actions.Plan(request(), rows=1, per_table={"sessions": 1})
        yes = actions.Confirmation(reason="because", typed_entity="sessions")
        with pytest.raises(actions.NotAllowed):
            actions.plan_for(ctx, request())
        with pytest.raises(actions.NotAllowed):
            actions.execute_prune(ctx, plan, yes)
        with pytest.raises(actions.NotAllowed):
            actions.rehearse_oldest(ctx, "sessions", request().before, 10)
        drain = actions.Plan(request("drain"), rows=1, per_table={"sessions": 1})
        with pytest.raises(actions.NotAllowed):
            actions.start_drain(ctx, drain, yes)
    finally:
        ctx.runtime.close()
    assert await count(db, sessions) == 1
    assert await journal.history(db) == []


async def test_a_signed_in_operator_prunes_and_is_journaled_with_the_reason(
        db: AsyncEngine, database_url: str) -> None:
    await add_session(db, age_days=30)
    ctx = context(database_url, operator="alice@console")
    try:
        plan = actions.plan_for(ctx, request())
        assert plan.rows == 1
        with pytest.raises(actions.NotAllowed, match="reason"):
            actions.execute_prune(ctx, plan, actions.Confirmation(reason=" "))
        outcome = actions.execute_prune(ctx, plan, actions.Confirmation(reason="INC-7"))
    finally:
        ctx.runtime.close()
    assert outcome.result.count == 1
    (run,) = await journal.history(db)
    assert (run.operator, run.reason, run.count) == ("alice@console", "INC-7", 1)
