"""An app's trigger rows kept in step with its current version, in the transaction that
makes a version current (import, update, rollback; an unchanged `sync` reconciles too).

A webhook node gets its id once and keeps it while the app exists, whatever the versions
do (a node that leaves and comes back, by update or rollback, has its old URL); a schedule
node's next fire time is computed anew when its schedule changes or it comes back. Nodes
the current version lacks are inactive: their webhook answers 404, their schedule never
fires. Dify does the same when a workflow is published (its webhook and schedule-plan
sync), except that it drops the rows of nodes that left."""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.app_mode import AppMode
from app.engine.graph.loader import read_nodes
from app.engine.graph.model import NodeSpec
from app.engine.nodes.trigger_schedule.schedule import Schedule, ScheduleError, read_schedule
from app.models import AppTrigger
from app.models.base import utcnow

WEBHOOK = "trigger-webhook"
SCHEDULE = "trigger-schedule"
SYNCED_TYPES = (WEBHOOK, SCHEDULE)


def new_webhook_id() -> str:
    """24 URL-safe characters, as Dify makes them (the unique column guards collisions)."""
    return secrets.token_urlsafe(18)[:24]


def trigger_nodes(mode: str, dsl: Mapping[str, Any]) -> list[NodeSpec]:
    """The webhook and schedule nodes of a workflow app's graph (top level only: a trigger
    is an entry point)."""
    if mode != AppMode.WORKFLOW.value:
        return []
    workflow = dsl.get("workflow")
    graph = workflow.get("graph") if isinstance(workflow, Mapping) else None
    if not isinstance(graph, Mapping):
        return []
    return [
        spec
        for spec in read_nodes(graph).values()
        if spec.type in SYNCED_TYPES and spec.parent_id is None
    ]


@dataclass(frozen=True, slots=True)
class ScheduleReading:
    schedule: Schedule | None
    error: str | None = None


def schedule_of(spec: NodeSpec, allow_seconds: bool) -> ScheduleReading:
    try:
        return ScheduleReading(read_schedule(spec.data, allow_seconds=allow_seconds))
    except ScheduleError as exc:
        return ScheduleReading(None, str(exc))


def trigger_problems(mode: str, dsl: Mapping[str, Any], allow_seconds: bool) -> tuple[str, ...]:
    """What import reports of the triggers: schedules that cannot be read never fire, and
    no trigger fires in an advanced-chat app (Dify has triggers in workflow apps only)."""
    found: list[str] = []
    if mode == AppMode.ADVANCED_CHAT.value:
        for spec in trigger_nodes(AppMode.WORKFLOW.value, dsl):
            found.append(
                f"never fires: node {spec.id} ({spec.title}): triggers start workflow apps "
                "only, not advanced-chat apps"
            )
    for spec in trigger_nodes(mode, dsl):
        if spec.type != SCHEDULE:
            continue
        reading = schedule_of(spec, allow_seconds)
        if reading.error is not None:
            found.append(
                f"never fires: node {spec.id} ({spec.title}): its schedule cannot be read: "
                f"{reading.error}"
            )
    return tuple(found)


def _apply_schedule(row: AppTrigger, spec: NodeSpec, now: datetime, allow_seconds: bool) -> None:
    schedule = schedule_of(spec, allow_seconds).schedule
    if schedule is None:
        row.cron_expression = row.timezone = row.next_run_at = None
        return
    same = (row.cron_expression, row.timezone) == (schedule.cron, schedule.timezone)
    if same and row.active and row.next_run_at is not None:
        return  # the same schedule goes on: no tick is lost or repeated
    row.cron_expression, row.timezone = schedule.cron, schedule.timezone
    row.next_run_at = schedule.next_after(now)


def _state(row: AppTrigger) -> tuple[Any, ...]:
    schedule = (row.cron_expression, row.timezone, row.next_run_at)
    return (row.type, row.active, row.webhook_id, *schedule)


async def sync_triggers(
    session: AsyncSession, app_id: str, mode: str, dsl: Mapping[str, Any], allow_seconds: bool
) -> None:
    statement = select(AppTrigger).where(AppTrigger.app_id == app_id)
    rows = {row.node_id: row for row in (await session.exec(statement)).all()}
    now = utcnow()
    for spec in trigger_nodes(mode, dsl):
        row = rows.pop(spec.id, None)
        if row is None:
            row = AppTrigger(app_id=app_id, node_id=spec.id, type=spec.type, active=False)
        before = _state(row)
        row.type = spec.type
        if spec.type == WEBHOOK:
            row.webhook_id = row.webhook_id or new_webhook_id()
            row.cron_expression = row.timezone = row.next_run_at = None
        else:
            _apply_schedule(row, spec, now, allow_seconds)
        row.active = True
        if _state(row) != before:
            row.updated_at = now
            session.add(row)
    for row in rows.values():  # nodes the current version does not have
        if row.active or row.next_run_at is not None:
            row.active, row.next_run_at, row.updated_at = False, None, now
            session.add(row)
