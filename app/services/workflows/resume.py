"""Resume a paused run once every form it waits on is answered (submitted or timed out):
the replica that claims the pause rebuilds the run from its snapshot and runs it on to
the end with the same workflow_run_id and task_id, as its own task."""

import asyncio
import logging
import time
from typing import Any

from sqlmodel import col, select, update

from app.core.app_mode import AppMode
from app.core.db import rows_changed, session_scope
from app.engine.channel import EventChannel
from app.engine.events import MessageStreamContext
from app.engine.features import feature_blocks
from app.engine.prompt import Turn
from app.engine.variables.values import plain
from app.engine.workflow.env import HumanDecision
from app.engine.workflow.events import WorkflowStream
from app.engine.workflow.snapshot import SNAPSHOT_VERSION, load_pool
from app.models import App, EndUser, HumanInputForm, Message, WorkflowPause, WorkflowRun
from app.models.base import timestamp, utcnow
from app.runtime import Runtime
from app.services.workflows.chat_records import finish_chat_message
from app.services.workflows.conversation_state import variable_saver
from app.services.workflows.files import fresh_urls
from app.services.workflows.followers import observer
from app.services.workflows.records import fail_run
from app.services.workflows.run_task import GraphTask, run_graph_task
from app.services.workflows.setup import build_pool, services, started_inputs, workflow_run
from app.services.workflows.versions import named_version

logger = logging.getLogger("kiln.workflow")

ANSWERED = ("submitted", "timeout")
CANNOT_RESUME = "The run could not resume after its human input."


def _decision(form: HumanInputForm) -> HumanDecision:
    expires = timestamp(form.expiration_time) or 0
    if form.status == "timeout":
        return HumanDecision("", {}, timed_out=True, expiration_time=expires)
    data = dict(form.submitted_data or {})
    return HumanDecision(form.selected_action_id or "", data, expiration_time=expires)


async def _claim(runtime: Runtime, run_id: str) -> list[HumanInputForm] | None:
    """The run's forms, when all are answered and this replica won the resumption."""
    async with session_scope() as session:
        forms = list(
            (
                await session.exec(
                    select(HumanInputForm).where(col(HumanInputForm.workflow_run_id) == run_id)
                )
            ).all()
        )
        if not forms or any(form.status not in ANSWERED for form in forms):
            return None
        claimed = await session.exec(
            update(WorkflowPause)
            .where(col(WorkflowPause.workflow_run_id) == run_id)
            .where(col(WorkflowPause.resumed_at).is_(None))
            .values(resumed_at=utcnow())
        )
        if rows_changed(claimed) != 1:
            return None
        worker = runtime.registry.worker_id
        # Only a run still paused goes on: one stopped meanwhile (a stop marks the run
        # before it closes the forms) stays stopped.
        running = await session.exec(
            update(WorkflowRun)
            .where(col(WorkflowRun.id) == run_id)
            .where(col(WorkflowRun.status) == "paused")
            .values(status="running", worker_id=worker)
        )
        if rows_changed(running) != 1:
            return None
        # A chatflow's message runs again (its answer saved as it streams; closed by the
        # reaper should this replica die before the run ends).
        run = await session.get(WorkflowRun, run_id)
        if run is not None and run.message_id:
            await session.exec(
                update(Message)
                .where(col(Message.id) == run.message_id)
                .values(is_running=True, worker_id=worker)
            )
    return forms


async def resume_run(runtime: Runtime, run_id: str) -> bool:
    """Starts the rest of the run here when it can; False when it still waits, another
    replica took it, or this one is shutting down (upkeep elsewhere takes it up)."""
    if runtime.draining:  # it would be stopped or cancelled here: another replica takes it
        return False
    forms = await _claim(runtime, run_id)
    if forms is None:
        return False
    try:
        await _start(runtime, run_id, forms)
    except Exception:
        # Claimed but not started: no replica will take it again, so it ends here rather
        # than read `running` forever (its worker lives, so no reaper closes it).
        logger.exception("cannot resume run %s", run_id)
        await _give_up(run_id)
        return False
    return True


async def _start(runtime: Runtime, run_id: str, forms: list[HumanInputForm]) -> None:
    async with session_scope() as session:
        run = await session.get(WorkflowRun, run_id)
        pause = (
            await session.exec(
                select(WorkflowPause).where(col(WorkflowPause.workflow_run_id) == run_id)
            )
        ).one()
        app = await session.get(App, run.app_id) if run else None
        user = await session.get(EndUser, run.created_by) if run else None
        message = await session.get(Message, run.message_id) if run and run.message_id else None
    if run is None or app is None or user is None:
        raise LookupError("its app, user or row is gone")
    task = await _rebuild(runtime, app, run, user, message, pause.state)
    task.workflow.human_decisions = {form.node_id: _decision(form) for form in forms}
    if run.task_id:
        handle = await runtime.registry.register(run.task_id, _owner(app, user))
        task.stop = handle.stop_requested
    # Only now is the run local: followers here wait on it until its observer hears its end.
    task.observer = observer(run_id)
    running = asyncio.create_task(run_graph_task(runtime, task), name=f"resume-{run_id}")
    runtime.track(running)


async def _give_up(run_id: str) -> None:
    async with session_scope(read_only=True) as session:
        run = await session.get(WorkflowRun, run_id)
    await fail_run(run_id, CANNOT_RESUME)
    if run is not None and run.message_id:
        await finish_chat_message(run.message_id, "", None, CANNOT_RESUME)


def _owner(app: App, user: EndUser) -> str:
    return f"app-{app.id}" if app.app_mode is AppMode.WORKFLOW else f"end-user-{user.id}"


async def _rebuild(
    runtime: Runtime,
    app: App,
    run: WorkflowRun,
    user: EndUser,
    message: Message | None,
    state: dict[str, Any],
) -> GraphTask:
    if state.get("version") != SNAPSHOT_VERSION:
        raise ValueError(f"snapshot version {state.get('version')!r} is not this Kiln's")
    version = await named_version(app, run.workflow_id)
    workflow = version.workflow
    task_id = run.task_id or run.id
    pool = load_pool(state["pool"], build_pool(app.app_mode, {}, workflow))
    for name, scope in pool.scopes().items():
        pool.scope(name).update(fresh_urls(runtime.settings, scope))
    run_services = services(runtime, app.id, user.id)
    chat = None
    if message is not None and run.conversation_id is not None:
        run_services.save_conversation_variable = variable_saver(run.conversation_id)
        created = timestamp(message.created_at) or 0
        chat = MessageStreamContext(task_id, message.id, run.conversation_id, created)
    history = [Turn(**turn) for turn in state.get("history") or []]
    inputs = dict(run.inputs or {})
    system = {key: plain(value) for key, value in pool.scope("sys").items()}
    return GraphTask(
        app_id=app.id,
        request_id=f"resume-{run.id}",  # holds no limiter slot: releasing it is a no-op
        version=version,
        workflow=workflow_run(
            runtime, app, version, (run.id, task_id), inputs, run_services, history=history
        ),
        pool=pool,
        stream=WorkflowStream(task_id, run.id, chat, pool.secrets),
        channel=EventChannel.unheard(),
        stop=asyncio.Event(),
        created_by={"id": user.id, "user": user.session_id},
        created_at=timestamp(run.created_at) or int(time.time()),
        started_inputs=started_inputs(inputs, system),
        features=feature_blocks(app.app_mode, version.dsl),
        resume=state,
    )
