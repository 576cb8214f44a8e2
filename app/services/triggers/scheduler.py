"""Schedule triggers firing: one asyncio task per serving process (no thread) looks for
due schedules every KILN_SCHEDULER_POLL_INTERVAL seconds and fires them.

Among replicas, exactly one fires each tick: firing is one transaction that moves the
schedule's next fire time on only if it still names this tick (compare and set), records
the tick in `trigger_fires` (unique per app, node and fire time) and stores the run's row.
A replica that loses the race writes nothing; a replica that dies after the commit leaves
a run the reaper closes as interrupted, and one that dies before it leaves the tick due
for the others. Every replica with the scheduler on takes part, so none is special and the
death of one loses no tick. As Dify's poller does, a schedule found late (every replica
was down) fires once, and its next fire time is counted from now."""

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select, update

from app.core.db import rows_changed, session_scope
from app.engine.nodes.trigger_schedule.schedule import Schedule
from app.engine.workflow.engine import WorkflowUnrunnable
from app.models import App, AppTrigger, TriggerFire
from app.models.base import utcnow
from app.runtime import Runtime
from app.services.end_users.lookup import trigger_user
from app.services.triggers import runs
from app.services.triggers.sync import SCHEDULE
from app.services.workflows.versions import current_version

logger = logging.getLogger("kiln.scheduler")

BATCH = 100  # due schedules fired per look; more wait for the next one
KEEP_FIRES = timedelta(days=1)  # fire records kept (a tick's uniqueness matters near it)
PRUNE_EVERY = timedelta(minutes=10)


class _Lost(Exception):
    """Another replica fired this tick first (or the schedule changed meanwhile)."""


async def due_schedules(now: datetime) -> list[tuple[AppTrigger, App]]:
    async with session_scope() as session:
        statement = (
            select(AppTrigger, App)
            .join(App, col(App.id) == col(AppTrigger.app_id))
            .where(
                AppTrigger.type == SCHEDULE,
                col(AppTrigger.active).is_(True),
                col(AppTrigger.next_run_at).is_not(None),
                col(AppTrigger.next_run_at) <= now,
            )
            .order_by(col(AppTrigger.next_run_at))
            .limit(BATCH)
        )
        return [(trigger, app) for trigger, app in (await session.exec(statement)).all()]


async def fire(runtime: Runtime, trigger: AppTrigger, app: App, now: datetime) -> str | None:
    """Fire one due tick; returns the run's id, or None when this replica did not fire it
    (another one did) or the app cannot run (the tick is still spent, as in Dify)."""
    tick = trigger.next_run_at
    assert tick is not None and trigger.cron_expression and trigger.timezone
    following = Schedule(trigger.cron_expression, trigger.timezone).next_after(now)
    version = current_version(app)
    run: runs.TriggeredRun | None = None
    problem: str | None = None
    try:
        version.compiled.check_runnable(trigger.node_id)
    except WorkflowUnrunnable as exc:
        problem = str(exc)
    else:
        end_user = await trigger_user(app.id)
        # Dify's schedule input: the moment it fired, in the node's timezone.
        inputs = {"current_time": now.astimezone(ZoneInfo(trigger.timezone)).isoformat()}
        run = runs.prepare(runtime, app, version, end_user, trigger.node_id, inputs, "schedule")
    try:
        async with session_scope() as session:
            moved = await session.exec(
                update(AppTrigger)
                .where(
                    col(AppTrigger.id) == trigger.id,
                    col(AppTrigger.next_run_at) == tick,
                    col(AppTrigger.active).is_(True),
                )
                .values(next_run_at=following)
            )
            if rows_changed(moved) != 1:
                raise _Lost()
            session.add(
                TriggerFire(
                    app_id=app.id,
                    node_id=trigger.node_id,
                    fire_at=tick,
                    workflow_run_id=run.row.id if run else None,
                    worker_id=runtime.registry.worker_id,
                )
            )
            if run is not None:
                session.add(run.row)
    except (_Lost, IntegrityError):
        return None
    if run is None:
        logger.warning("schedule %s of app %s cannot run: %s", trigger.node_id, app.id, problem)
        return None
    await runs.start(runtime, run)
    logger.info("schedule %s of app %s fired run %s", trigger.node_id, app.id, run.row.id)
    return run.row.id


async def fire_due(runtime: Runtime) -> int:
    """One look: fire what is due now; returns how many runs this replica started."""
    now = utcnow()
    started = 0
    for trigger, app in await due_schedules(now):
        if runtime.draining:
            break
        try:
            if await fire(runtime, trigger, app, now) is not None:
                started += 1
        except Exception:
            logger.exception("schedule %s of app %s failed to fire", trigger.node_id, app.id)
    return started


async def prune_fires(before: datetime) -> None:
    async with session_scope() as session:
        await session.exec(delete(TriggerFire).where(col(TriggerFire.fire_at) < before))


class Scheduler:
    """The process's scheduler task. Stopping lets a look under way finish (a tick it
    claimed is started, not left half-fired), then ends the task."""

    STOP_WAIT = 10.0  # seconds a look may take to finish at shutdown

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._loop(), name="kiln-scheduler")

    async def _loop(self) -> None:
        runtime = self._runtime
        pruned_at = utcnow() - PRUNE_EVERY
        while not (self._stop.is_set() or runtime.draining):
            try:
                await fire_due(runtime)
                if utcnow() - pruned_at >= PRUNE_EVERY:
                    pruned_at = utcnow()
                    await prune_fires(pruned_at - KEEP_FIRES)
            except Exception as exc:  # the database is down or busy: look again next time
                logger.warning("schedule look failed (%s)", type(exc).__name__, exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), runtime.settings.scheduler_poll_interval)

    async def stop(self) -> None:
        self._stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), self.STOP_WAIT)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def start_scheduler(runtime: Runtime) -> Scheduler | None:
    """The process's scheduler, unless KILN_SCHEDULER_ENABLED is off here."""
    return Scheduler(runtime) if runtime.settings.scheduler_enabled else None
