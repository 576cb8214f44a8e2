"""The detached task that runs one graph-app request: `workflow_started`, the engine,
node rows as they finish, the run's end stored, then `workflow_finished` (and, for
advanced-chat, the message stored and `message_end`, or `error`). It releases the limiter
slot and the registry entry however it ends."""

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.engine.channel import EventChannel
from app.engine.events import Event
from app.engine.features import feature_block
from app.engine.nodes.base import Usage
from app.engine.run_context import RunContext
from app.engine.tts import TtsPublisher, start_tts
from app.engine.variables.pool import VariablePool
from app.engine.variables.values import output_files, plain
from app.engine.workflow.engine import WorkflowOutcome, run_workflow
from app.engine.workflow.env import WorkflowRun
from app.engine.workflow.events import NodeExecution, WorkflowStream
from app.gateway.pricing import empty_usage
from app.runtime import Runtime
from app.services.model_errors import dify_error
from app.services.workflows.chat_guards import (
    EarlyAnswer,
    GuardedStream,
    answer_first,
    chat_moderation,
    output_guard,
)
from app.services.workflows.chat_records import finish_chat_message
from app.services.workflows.pauses import pause_run
from app.services.workflows.records import (
    STOPPED_BY_MODERATION,
    STOPPED_BY_USER,
    NodeRecorder,
    fail_run,
    finish_run,
    skip_run,
)
from app.services.workflows.versions import WorkflowVersion

logger = logging.getLogger("kiln.workflow")

INTERNAL_ERROR = ("internal_server_error", "Internal Server Error, please contact support.", 500)


@dataclass(slots=True)
class GraphTask:
    """One launched graph-app request: what runs, and where its events go."""

    app_id: str
    request_id: str  # the limiter slot it holds
    version: WorkflowVersion
    workflow: WorkflowRun
    pool: VariablePool
    stream: WorkflowStream
    channel: EventChannel
    stop: asyncio.Event
    created_by: dict[str, Any]  # {"id": end user id, "user": the request's user}
    created_at: int
    started_inputs: dict[str, Any]  # what `workflow_started` shows: inputs and sys.*
    features: dict[str, Any] = field(default_factory=dict)  # the workflow's feature blocks
    speak: bool = False  # auto-play audio (advanced-chat streams only)
    resume: dict[str, Any] | None = None  # a paused run's snapshot: it goes on from there
    # Also told every event (a resumed run's followers, GET /workflow/{id}/events).
    observer: Callable[[Event | None], None] | None = None


def _message_usage(usages: list[Usage], elapsed: float) -> dict[str, Any]:
    """The message's usage: every model call of the run added up (Dify's advanced-chat)."""
    usage = empty_usage()
    prompt = sum(u.prompt_tokens for u in usages)
    completion = sum(u.completion_tokens for u in usages)
    price = sum((Decimal(u.total_price or "0") for u in usages), Decimal("0"))
    usage.update(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=prompt + completion,
        total_price=f"{price:f}",
        latency=round(elapsed, 6),
    )
    return usage


def _finished_data(task: GraphTask, outcome: WorkflowOutcome) -> dict[str, Any]:
    return {
        "id": task.workflow.run_id,
        "workflow_id": task.version.id,
        "status": outcome.status,
        "outputs": plain(outcome.outputs),
        "error": outcome.error,
        "elapsed_time": outcome.elapsed,
        "total_tokens": outcome.total_tokens,
        "total_steps": outcome.total_steps,
        "created_by": task.created_by,
        "created_at": task.created_at,
        "finished_at": int(time.time()),
        "exceptions_count": outcome.exceptions,
        "files": output_files(outcome.outputs),
    }


def _delivery(task: GraphTask) -> Callable[[Event], None]:
    observer = task.observer
    if observer is None:
        return task.channel.emit

    def both(event: Event) -> None:
        task.channel.emit(event)
        observer(event)

    return both


async def run_graph_task(runtime: Runtime, task: GraphTask) -> None:
    stream, channel = task.stream, task.channel
    deliver = _delivery(task)
    terminal: list[Event] = []
    if runtime.stopping.is_set():  # started as the process stops: ends at once, as stopped
        task.stop.set()
    # Auto-play text to speech (app/engine/tts.py) watches the answer's `message` events.
    tts = _start_tts(runtime, task) if task.speak else None
    emit = deliver if tts is None else tts.watching(deliver)
    chat = stream.chat
    if chat is not None:  # the answer as its client is sent it, saved while it streams
        # A resumed run's message goes on from the text it had when the run paused.
        so_far = str(task.resume["coordinator"]["text"]) if task.resume else ""
        emit = runtime.answers.track(chat.message_id, so_far).watching(emit)
    run = RunContext.lasting(
        runtime.gateway, emit, task.stop, runtime.settings.workflow_max_execution_time
    )
    try:
        terminal += await _run(runtime, task, run)
    except asyncio.CancelledError:
        if tts is not None:
            tts.abort()
            tts = None
        await fail_run(task.workflow.run_id, "The run was cancelled at shutdown.")
        raise
    except Exception:
        logger.exception("workflow run %s failed", task.workflow.run_id)
        await fail_run(task.workflow.run_id, "Internal Server Error")
        if stream.chat is not None:
            await finish_chat_message(stream.chat.message_id, "", None, "Internal Server Error")
        terminal.append(_error(stream, *INTERNAL_ERROR))
    finally:
        if chat is not None:
            runtime.answers.untrack(chat.message_id)
        try:
            await runtime.limiter.release(task.app_id, task.request_id)
            await runtime.registry.unregister(task.workflow.task_id)
        except Exception:  # Redis down: entries expire on their own
            logger.warning("could not release task %s", task.workflow.task_id, exc_info=True)
        for event in terminal:
            deliver(event)
        try:
            if tts is not None:  # audio may follow message_end: the stream stays open
                ended_well = bool(terminal) and terminal[-1]["event"] == "message_end"
                await tts.finish(speak_rest=ended_well)
        finally:
            channel.close()
            if task.observer is not None:
                task.observer(None)


async def _run(runtime: Runtime, task: GraphTask, run: RunContext) -> list[Event]:
    """The turn itself; returns the events that end its stream."""
    stream, chat = task.stream, task.stream.chat
    moderation = chat_moderation(runtime, task.app_id, task.features) if chat else None
    if chat is not None and task.resume is None:
        query = str(task.pool.get(("sys", "query")) or "")
        early = await answer_first(
            runtime, task.app_id, moderation, chat, run, task.workflow.inputs, query
        )
        if early is not None:
            return [await _end_early(task, early)]
    guard = output_guard(moderation, chat, run.emit) if chat is not None else None
    watcher = None
    if guard is not None:
        run.emit = GuardedStream(guard, task.stop).wrap(run.emit)
        watcher = asyncio.create_task(_stop_when_blocked(guard.blocked, task.stop))
    secrets = task.pool.secrets
    recorder = NodeRecorder(task.app_id, task.version.id, task.workflow.run_id, secrets)
    answer_files: list[dict[str, Any]] = []

    def node_finished(execution: NodeExecution) -> None:
        recorder.add(execution)
        # Dify's advanced-chat message_end lists the files answer, end and LLM nodes output.
        if execution.status == "succeeded" and execution.spec.type in ("answer", "end", "llm"):
            answer_files.extend(output_files(execution.outputs))

    reason = "initial" if task.resume is None else "resumption"
    run.emit(stream.workflow_started(task.version.id, task.started_inputs, task.created_at, reason))
    try:
        outcome = await run_workflow(
            task.version.compiled,
            task.workflow,
            task.pool,
            run,
            stream,
            runtime.settings.workflow_max_execution_time,
            node_finished,
            resume=task.resume,
        )
    finally:
        if watcher is not None:
            watcher.cancel()
        await recorder.close()
    if outcome.status == "paused":
        return await pause_run(runtime, task, outcome)
    if guard is not None and outcome.status != "failed":
        final = await guard.finish(outcome.answer)
        if final is not None:
            outcome.answer = final
    if outcome.status == "stopped" and outcome.error is None:
        blocked = guard is not None and guard.blocked.is_set()
        outcome.error = STOPPED_BY_MODERATION if blocked else STOPPED_BY_USER
    await finish_run(task.workflow.run_id, outcome, secrets)
    ending = [stream.workflow_finished(_finished_data(task, outcome))]
    if chat is not None:
        ending.append(await _end_chat_turn(task, outcome, answer_files))
    return ending


async def _stop_when_blocked(blocked: asyncio.Event, stop: asyncio.Event) -> None:
    await blocked.wait()
    stop.set()


async def _end_early(task: GraphTask, early: EarlyAnswer) -> Event:
    """Input moderation or an annotation answered: the workflow does not run."""
    chat = task.stream.chat
    assert chat is not None
    if early.error is not None:
        failure = dify_error(early.error)
        await finish_chat_message(chat.message_id, "", None, failure.message)
        await fail_run(task.workflow.run_id, failure.message)
        return chat.error(failure.code, failure.message, failure.status)
    metadata = {**early.metadata, "retriever_resources": [], "usage": empty_usage()}
    await finish_chat_message(chat.message_id, early.text, metadata, None)
    await skip_run(task.workflow.run_id, early.text)
    return chat.message_end(metadata, [])


def _start_tts(runtime: Runtime, task: GraphTask) -> TtsPublisher | None:
    chat = task.stream.chat
    if chat is None:
        return None
    timeout = runtime.settings.tts_auto_play_timeout
    return start_tts(runtime.gateway, task.features, chat, task.channel.emit, timeout)


def _error(stream: WorkflowStream, code: str, message: str, status: int) -> Event:
    if stream.chat is not None:
        return stream.chat.error(code, message, status)
    payload = stream.envelope("error")
    payload.update(code=code, status=status, message=message)
    return payload


async def _end_chat_turn(
    task: GraphTask, outcome: WorkflowOutcome, files: list[dict[str, Any]]
) -> Event:
    """Store the advanced-chat message; its `message_end`, or the failed run's `error`."""
    chat = task.stream.chat
    assert chat is not None
    if outcome.status == "failed":
        message = f"Run failed: {outcome.error}"
        await finish_chat_message(chat.message_id, outcome.answer, None, message)
        return chat.error("invalid_param", message, 400)  # Dify: a ValueError
    usage = _message_usage(outcome.usages, outcome.elapsed)
    # Dify shows the LLMs' retriever resources only with the app's `retriever_resource`.
    shown = feature_block(task.features, "retriever_resource").get("enabled")
    resources = outcome.retriever_resources if shown else []
    metadata = {"retriever_resources": resources, "usage": usage}
    answer_files = (files, str(task.created_by["id"]))
    await finish_chat_message(chat.message_id, outcome.answer, metadata, None, answer_files)
    return chat.message_end(metadata, files)
