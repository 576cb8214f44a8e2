"""The detached task that runs one classic generation, stores its result and ends its
stream; it releases the limiter slot and the registry entry however it ends."""

import asyncio
import logging
from dataclasses import dataclass

from app.engine.channel import EventChannel
from app.engine.classic_runner import ClassicJob, RunResult, run_classic
from app.engine.events import Event, MessageStreamContext
from app.engine.moderation.runner import moderation_for
from app.engine.run_context import RunContext
from app.engine.tts import TtsPublisher, start_tts
from app.runtime import Runtime
from app.services.annotations.reply import answer_from_annotation
from app.services.generation.records import fail_message, finish_message
from app.services.model_errors import dify_error, error_triple

logger = logging.getLogger("kiln.generation")

INTERNAL_ERROR = ("internal_server_error", "Internal Server Error, please contact support.", 500)


@dataclass(slots=True)
class ClassicTask:
    """One launched classic generation: what it runs and where its events go."""

    app_id: str
    request_id: str  # the limiter slot it holds
    job: ClassicJob
    ctx: MessageStreamContext
    channel: EventChannel
    stop: asyncio.Event
    speak: bool = True  # auto-play audio only where a stream can carry it


async def run_generation(runtime: Runtime, task: ClassicTask) -> None:
    app_id, job, ctx, channel = task.app_id, task.job, task.ctx, task.channel
    request_id = task.request_id
    terminal: Event | None = None
    # Auto-play text to speech (app/engine/tts.py): watches the answer, adds audio events.
    tts = _start_tts(runtime, job, ctx, channel) if task.speak else None
    emit = channel.emit if tts is None else tts.watching(channel.emit)
    run = RunContext.lasting(
        runtime.gateway, emit, task.stop, runtime.settings.app_max_execution_time
    )
    try:
        # sensitive_word_avoidance (app/engine/moderation): None when the app has none.
        moderation = moderation_for(job.config.features, app_id, runtime.settings, runtime.gateway)
        result = await run_classic(
            job,
            run,
            ctx,
            moderation,
            # Annotation reply (app/services/annotations/reply.py), after input moderation.
            lambda job_: answer_from_annotation(runtime, app_id, job_, ctx, run),
            # Dataset retrieval: the integrations file's knowledge bases.
            runtime.knowledge,
        )
        terminal = await _store(ctx, result)
    except asyncio.CancelledError:
        if tts is not None:
            tts.abort()
            tts = None
        await fail_message(ctx.message_id, "The generation was cancelled at shutdown.")
        raise
    except Exception:
        logger.exception("generation %s failed", ctx.task_id)
        await fail_message(ctx.message_id, "Internal Server Error")
        terminal = ctx.error(*INTERNAL_ERROR)
    finally:
        # Free the slot and the registry entry before the client sees the end, so its
        # next request never meets its own finished generation.
        try:
            await runtime.limiter.release(app_id, request_id)
            await runtime.registry.unregister(ctx.task_id)
        except Exception:  # Redis down: entries expire on their own
            logger.warning("could not release task %s", ctx.task_id, exc_info=True)
        if terminal is not None:
            channel.emit(terminal)
        try:
            if tts is not None:  # audio may follow message_end: the stream stays open
                await tts.finish(speak_rest=terminal is not None and terminal["event"] != "error")
        finally:
            channel.close()


def _start_tts(
    runtime: Runtime, job: ClassicJob, ctx: MessageStreamContext, channel: EventChannel
) -> TtsPublisher | None:
    timeout = runtime.settings.tts_auto_play_timeout
    return start_tts(runtime.gateway, job.config.features, ctx, channel.emit, timeout)


async def _store(ctx: MessageStreamContext, result: RunResult) -> Event:
    """Persist the result; return the event that ends the stream."""
    resources = result.metadata.get("retriever_resources") or []
    metadata: Event = {**result.metadata, "retriever_resources": resources, "usage": result.usage}
    failure = dify_error(result.error) if result.error is not None else None
    triple = error_triple(failure) if failure is not None else None
    await finish_message(ctx.message_id, result, metadata, triple[1] if triple else "")
    logger.info(
        "generation finished task_id=%s message_id=%s stopped=%s error=%s tokens=%s",
        ctx.task_id,
        ctx.message_id,
        result.stopped,
        result.error is not None,
        result.usage.get("total_tokens"),
    )
    if result.error is not None and triple is not None:
        blocking = dify_error(result.error, blocking=True)
        http = error_triple(blocking) if blocking.code != triple[0] else None
        return ctx.error(*triple, http=http)
    return ctx.message_end(metadata)
