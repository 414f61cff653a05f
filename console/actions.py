"""Everything the console does that changes data, each guarded here rather than by the UI.

A prune is a `PruneRequest` (what the operator clicked), then a `Plan` (what it deletes, computed
fresh when the confirmation dialog opens), then a `Confirmation` (reason, typed entity name).
`execute_prune` and `start_drain` re-check the operator's access, read-only mode and the
confirmation themselves, so a hidden or disabled button is never the only guard.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from console.context import ConsoleContext
from core import errors, export, journal, registry
from core.drain import DrainProgress, DrainResult, drain, retry_parked
from core.operations import check_reason, prune, rehearse
from core.preview import preview
from core.repository.pruner import PruneResult, SweepRequest, sweep
from core.restore import RestoreResult, restore

Kind = Literal["oldest", "selected", "drain", "retry", "restore"]
ID_KINDS = ("selected", "retry")  # requests that name their rows


class NotAllowed(errors.PrunerError):
    """The console refused an action: read-only mode, nobody signed in, or no confirmation."""


@dataclass(frozen=True)
class PruneRequest:
    """What the operator asked for, exactly as the page showed it."""

    kind: Kind
    entity: str
    before: datetime
    limit: int  # the cap of a prune; the batch size of a drain
    ids: tuple[Any, ...] | None = None  # kind "selected" / "retry" (parked rows)
    max_batches: int | None = None  # kind == "drain"
    pause_seconds: float = 0.0  # kind == "drain"
    run_id: int | None = None  # kind == "restore": the archived run to put back


@dataclass(frozen=True)
class Plan:
    """What a request deletes, as stated in the confirmation dialog."""

    request: PruneRequest
    rows: int  # entity rows it deletes at most (a drain: the current estimate; a restore:
    # the entity rows it puts back)
    per_table: dict[str, int]  # per-table rows, cascades included (a drain: its first batch)
    skipped: int = 0  # selected ids that no longer qualify
    oldest: datetime | None = None  # the time range of the entity rows it deletes
    newest: datetime | None = None
    updated: dict[str, int] = field(default_factory=dict)  # rows it sets to NULL, per table
    computed_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def total(self) -> int:
        return sum(self.per_table.values())


@dataclass(frozen=True)
class Confirmation:
    reason: str
    typed_entity: str = ""


@dataclass(frozen=True)
class Outcome:
    """The last rehearsal or prune of a session, kept for the page until dismissed."""

    kind: Literal["rehearsal", "prune"]
    result: PruneResult
    csv: str | None = None  # exactly what the download button serves
    finished_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def sweep_of(ctx: ConsoleContext, entity: str, before: datetime, limit: int,
             ids: Sequence[Any] | None = None) -> SweepRequest:
    """The one sweep request of a console action (validated: bad input is InvalidArgument)."""
    pruner = ctx.call(lambda db: registry.resolve(db, entity), f"choosing the {entity} model")
    return sweep(pruner, before=before, limit=limit, ids=ids,
                 settings=ctx.settings.core.prune)


# ------------------------------------------------------------------------------ guards
def ensure_can_prune(ctx: ConsoleContext) -> str:
    """The operator to record, or NotAllowed. Checked by every path that writes."""
    if ctx.settings.read_only:
        raise NotAllowed("Read-only mode: this console only previews and shows history.")
    if not ctx.access.can_prune or not ctx.access.operator:
        raise NotAllowed(ctx.access.notice or "Sign in to prune.")
    return ctx.access.operator


def needs_typed_confirmation(plan: Plan, confirm_above: int) -> bool:
    return plan.rows > confirm_above


def check_confirmation(plan: Plan, confirmation: Confirmation, confirm_above: int) -> None:
    if plan.rows <= 0:
        raise NotAllowed("Nothing to delete: no row qualifies any more.")
    if not confirmation.reason.strip():
        raise NotAllowed("Give a reason: it is recorded in the journal with the run.")
    check_reason(confirmation.reason)
    if needs_typed_confirmation(plan, confirm_above) and (
            confirmation.typed_entity.strip() != plan.request.entity):
        raise NotAllowed(f"Type the entity name {plan.request.entity!r} to confirm deleting "
                         f"{plan.rows:,} rows.")


# ------------------------------------------------------------------------------ actions
def plan_for(ctx: ConsoleContext, request: PruneRequest) -> Plan:
    """Fresh numbers for the dialog from a lock-free preview (of the named ids, if any): how
    many rows, per table with every cascade, and the time range they span."""
    ensure_can_prune(ctx)
    if request.kind == "restore":
        return _restore_plan(ctx, request)
    if request.kind in ID_KINDS:
        ids = list(request.ids or ())
        if not ids:
            raise NotAllowed("Select at least one row first.")
        req = sweep_of(ctx, request.entity, request.before, len(ids), ids)
        pv = ctx.call(lambda db: preview(db, req, sample_size=0, blocked_sample=0),
                      "previewing the selection")
        return Plan(request, rows=pv.candidates, per_table=dict(pv.cascade),
                    skipped=len(ids) - pv.candidates, oldest=pv.next_oldest,
                    newest=pv.next_newest, updated=dict(pv.updated))
    req = sweep_of(ctx, request.entity, request.before, request.limit)
    pv = ctx.call(lambda db: preview(db, req, sample_size=0, blocked_sample=0),
                  f"previewing {request.entity}")
    if request.kind == "drain":
        rows = pv.candidates
        if request.max_batches:
            rows = min(rows, request.limit * request.max_batches)
        return Plan(request, rows=rows, per_table=dict(pv.cascade), oldest=pv.oldest,
                    newest=pv.newest, updated=dict(pv.updated))
    return Plan(request, rows=pv.would_delete, per_table=dict(pv.cascade),
                oldest=pv.next_oldest, newest=pv.next_newest, updated=dict(pv.updated))


def _restore_plan(ctx: ConsoleContext, request: PruneRequest) -> Plan:
    """What a restore puts back: the run's deleted rows, per table (its archive)."""
    run = ctx.call(lambda db: journal.get_run(db, request.run_id), "reading the run")
    if not run.archived or run.status != "succeeded" or run.kind in ("restore", "rehearsal"):
        raise NotAllowed(f"Run #{run.id} was not an archived prune: nothing to restore.")
    done = ctx.call(lambda db: restored_runs(db), "reading the restores")
    if run.id in done:
        raise NotAllowed(f"Run #{run.id} was restored already (run #{done[run.id]}).")
    return Plan(request, rows=run.count, per_table=dict(run.deleted))


async def restored_runs(db: Any) -> dict[int, int]:
    """Archived runs already put back: run id -> the restore's run id."""
    runs = await journal.history(db, limit=10_000, kind="restore", status="succeeded")
    return {r.restored_from: r.id for r in runs if r.restored_from is not None}


def rehearse_oldest(ctx: ConsoleContext, entity: str, before: datetime, limit: int,
                    ) -> Outcome:
    operator = ensure_can_prune(ctx)  # a rehearsal takes row locks and writes the journal
    req = sweep_of(ctx, entity, before, limit)
    result = ctx.call(lambda db: rehearse(db, req, operator=operator, reason="console rehearsal",
                                          settings=ctx.settings.core.prune),
                      f"rehearsing {entity}")
    return Outcome("rehearsal", result)


def execute_prune(ctx: ConsoleContext, plan: Plan, confirmation: Confirmation) -> Outcome:
    """The confirmed prune: never more entity rows than the dialog stated."""
    operator = ensure_can_prune(ctx)
    check_confirmation(plan, confirmation, ctx.settings.confirm_above)
    req = plan.request
    if req.kind not in ("oldest", *ID_KINDS):
        raise errors.InvalidArgument(f"not a prune: {req.kind}")
    ids = list(req.ids) if req.kind in ID_KINDS and req.ids else None
    sw = sweep_of(ctx, req.entity, req.before, len(ids) if ids is not None else plan.rows, ids)
    reason = confirmation.reason.strip()
    if req.kind == "retry":
        result, _ = ctx.call(lambda db: retry_parked(
            db, sw, operator=operator, reason=reason, settings=ctx.settings.core.prune),
            f"retrying parked {req.entity}")
    else:
        result = ctx.call(lambda db: prune(db, sw, operator=operator, reason=reason,
                                           settings=ctx.settings.core.prune),
                          f"pruning {req.entity}")
    return Outcome("prune", result, csv=export.result_csv(result))


def execute_restore(ctx: ConsoleContext, plan: Plan, confirmation: Confirmation,
                    ) -> RestoreResult:
    """The confirmed restore of an archived run, in one transaction (core.restore)."""
    operator = ensure_can_prune(ctx)
    check_confirmation(plan, confirmation, ctx.settings.confirm_above)
    run_id = plan.request.run_id
    if plan.request.kind != "restore" or run_id is None:
        raise errors.InvalidArgument(f"not a restore: {plan.request.kind}")
    return ctx.call(lambda db: restore(db, run_id, operator=operator,
                                       reason=confirmation.reason.strip()),
                    f"restoring run #{run_id}")


# ------------------------------------------------------------------------------ drain
class DrainJob:
    """A drain running on the background loop; pages poll it and may ask it to stop."""

    def __init__(self, ctx: ConsoleContext, plan: Plan, operator: str, reason: str) -> None:
        req = plan.request
        self.plan = plan
        self.operator = operator
        self.started_at = datetime.now(UTC)
        self.cancel = threading.Event()  # drain checks it between batches
        self.progress: DrainProgress | None = None  # replaced whole by the loop thread
        self._csv: str | None = None
        self.caches_cleared = False  # set by the page once it dropped stale previews
        self.drain_id = str(uuid.uuid4())  # its row in the journal: any tab can see and stop it
        sw = sweep_of(ctx, req.entity, req.before, req.limit)
        self.future = ctx.runtime.submit(drain(
            ctx.runtime.engine, sw, max_batches=req.max_batches,
            pause_seconds=req.pause_seconds, progress=self._on_progress, cancel=self.cancel,
            operator=operator, reason=reason, settings=ctx.settings.core.prune,
            drain_id=self.drain_id))

    def _on_progress(self, progress: DrainProgress) -> None:
        self.progress = progress

    @property
    def done(self) -> bool:
        return self.future.done()

    def stop(self) -> None:
        self.cancel.set()

    def result(self) -> DrainResult:
        """The finished drain; a drain that could not start raises its PrunerError."""
        exc = self.future.exception()
        if exc is None:
            return self.future.result()
        if isinstance(exc, errors.PrunerError):
            raise exc
        raise errors.PrunerError(f"the drain failed: {type(exc).__name__}: {exc}") from exc

    def csv(self, ctx: ConsoleContext) -> str:
        """Every id the drain deleted, with the run of its batch (read back from the journal)."""
        if self._csv is None:
            self._csv = drain_csv(ctx, self.result())
        return self._csv


def start_drain(ctx: ConsoleContext, plan: Plan, confirmation: Confirmation) -> DrainJob:
    operator = ensure_can_prune(ctx)
    check_confirmation(plan, confirmation, ctx.settings.confirm_above)
    if plan.request.kind != "drain":
        raise errors.InvalidArgument(f"not a drain: {plan.request.kind}")
    return DrainJob(ctx, plan, operator, confirmation.reason.strip())


def stop_drain(ctx: ConsoleContext, drain_id: str) -> journal.drains.Drain:
    """Ask a running drain to stop after its current batch. Its flag is in the journal, so this
    works for a drain started in any tab, session or process."""
    ensure_can_prune(ctx)
    return ctx.call(lambda db: journal.drains.request_stop(db, drain_id), "stopping the drain")


def drain_csv(ctx: ConsoleContext, result: DrainResult) -> str:
    if result.ids_file is not None:  # more ids than a drain keeps in memory: already a CSV
        return Path(result.ids_file).read_text()
    return ctx.call(lambda db: export.drain_csv(db, result.run_ids),
                    "reading the drained ids from the journal")
