"""`GET /v1/workflow/{workflow_run_id}/events` (Dify's workflow events stream): a finished
run answers its `workflow_finished`; a paused one its `human_input_required` events and
`workflow_paused`; a running one its events as they come when it runs in this process,
else its end once the database shows it (whichever replica runs it)."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from sqlmodel import col, select

from app.core import errors
from app.core.db import session_scope
from app.engine.events import Event, MessageStreamContext, sse_frame
from app.engine.variables.values import output_files
from app.engine.workflow.events import WorkflowStream
from app.models import App, EndUser, Message, WorkflowPause, WorkflowRun
from app.models.base import timestamp
from app.services.end_users import lookup as end_users
from app.services.workflows import followers
from app.services.workflows.pauses import pause_events

POLL_EVERY = 0.5  # seconds between looks at a run another replica runs


async def _load(run_id: str) -> WorkflowRun | None:
    async with session_scope(read_only=True) as session:
        return await session.get(WorkflowRun, run_id)


async def _stream(run: WorkflowRun) -> WorkflowStream:
    chat = None
    if run.message_id and run.conversation_id:
        async with session_scope(read_only=True) as session:
            message = await session.get(Message, run.message_id)
        created = timestamp(message.created_at) if message else None
        chat = MessageStreamContext(
            run.task_id or run.id, run.message_id, run.conversation_id, created or 0
        )
    return WorkflowStream(run.task_id or run.id, run.id, chat)


def _finished(stream: WorkflowStream, run: WorkflowRun, user: EndUser) -> Event:
    return stream.workflow_finished(
        {
            "id": run.id,
            "workflow_id": run.workflow_id,
            "status": run.status,
            "outputs": run.outputs,
            "error": run.error,
            "elapsed_time": run.elapsed_time,
            "total_tokens": run.total_tokens,
            "total_steps": run.total_steps,
            "created_by": {"id": user.id, "user": user.session_id},
            "created_at": timestamp(run.created_at),
            "finished_at": timestamp(run.finished_at),
            "exceptions_count": run.exceptions_count,
            "files": output_files(run.outputs),
        }
    )


async def _state_events(run: WorkflowRun, user: EndUser) -> list[Event] | None:
    """The events a settled run answers; None while it runs (nothing more is read then:
    a follower of another replica's run asks every POLL_EVERY)."""
    if run.finished_at is None and run.status != "paused":
        return None
    stream = await _stream(run)
    if run.finished_at is not None:
        return [_finished(stream, run, user)]
    async with session_scope(read_only=True) as session:
        pause = (
            await session.exec(
                select(WorkflowPause).where(col(WorkflowPause.workflow_run_id) == run.id)
            )
        ).first()
    reasons: list[dict[str, Any]] = list(pause.reasons) if pause else []
    totals = {
        "created_at": timestamp(run.created_at),
        "elapsed_time": run.elapsed_time,
        "total_tokens": run.total_tokens,
        "total_steps": run.total_steps,
    }
    return pause_events(stream, reasons, totals)


async def open_run_events(app: App, run_id: str, user: str) -> AsyncIterator[bytes]:
    """Checks first (so a bad request is an HTTP error), then the SSE frames."""
    if not app.app_mode.is_graph:
        raise errors.NotWorkflowApp()
    end_user = await end_users.find(app.id, user)
    run = await _load(run_id)
    if run is None or end_user is None or run.app_id != app.id or run.created_by != end_user.id:
        raise errors.NotFound("Workflow run not found")
    return _frames(run, end_user)


async def _frames(run: WorkflowRun, user: EndUser) -> AsyncIterator[bytes]:
    if followers.is_local(run.id):
        channel = followers.follow(run.id)
        try:
            if followers.is_local(run.id):  # it may have ended in between
                async for event in channel.events():
                    yield sse_frame(event)
                return
        finally:
            followers.unfollow(run.id, channel)
    while True:
        current = await _load(run.id)
        if current is None:
            return
        events = await _state_events(current, user)
        if events is not None:
            for event in events:
                yield sse_frame(event)
            return
        await asyncio.sleep(POLL_EVERY)  # the response pings meanwhile
