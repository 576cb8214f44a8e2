"""Reading what triggers did, for tests: an app's webhook paths, its triggered runs (they
have no listener to answer them), its schedule fires."""

import asyncio
import time

from sqlmodel import col, select

from app.core.db import session_scope
from app.models import AppTrigger, TriggerFire, WorkflowRun


async def webhook_path(app_id: str, node_id: str) -> str:
    async with session_scope() as session:
        statement = select(AppTrigger).where(
            AppTrigger.app_id == app_id, AppTrigger.node_id == node_id
        )
        row = (await session.exec(statement)).one()
    assert row.webhook_id is not None
    return f"/triggers/webhook/{row.webhook_id}"


async def trigger_row(app_id: str, node_id: str) -> AppTrigger:
    async with session_scope() as session:
        statement = select(AppTrigger).where(
            AppTrigger.app_id == app_id, AppTrigger.node_id == node_id
        )
        return (await session.exec(statement)).one()


async def runs_of(app_id: str) -> list[WorkflowRun]:
    async with session_scope() as session:
        statement = (
            select(WorkflowRun)
            .where(WorkflowRun.app_id == app_id)
            .order_by(col(WorkflowRun.created_at))
        )
        return list((await session.exec(statement)).all())


async def finished_runs(app_id: str, count: int, timeout: float = 20.0) -> list[WorkflowRun]:
    """Wait until the app has at least `count` runs, all finished."""
    deadline = time.monotonic() + timeout
    while True:
        runs = await runs_of(app_id)
        done = [r for r in runs if r.status != "running"]
        if len(runs) >= count and len(done) == len(runs):
            return runs
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(done)}/{len(runs)} runs finished, wanted {count}")
        await asyncio.sleep(0.05)


async def fires_of(app_id: str) -> list[TriggerFire]:
    async with session_scope() as session:
        statement = (
            select(TriggerFire)
            .where(TriggerFire.app_id == app_id)
            .order_by(col(TriggerFire.fire_at))
        )
        return list((await session.exec(statement)).all())
