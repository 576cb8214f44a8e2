"""The detached task that runs one classic generation, stores its result and ends its
stream; it releases the limiter slot and the registry entry however it ends."""

import asyncio
import logging

from app.engine.channel import EventChannel
from app.engine.classic_runner import ClassicJob, RunResult, run_classic
from app.engine.events import Event, MessageStreamContext
from app.engine.moderation.base import ModerationFailure
from app.engine.moderation.runner import moderation_for
from app.engine.tts import TtsPublisher, start_tts
from app.gateway.types import (
    GatewayError,
    ProviderNotInitialized,
    UpstreamAuthFailed,
    UpstreamRateLimited,
)
from app.runtime import Runtime
from app.services.annotations.reply import answer_from_annotation
from app.services.generation.records import fail_message, finish_message

logger = logging.getLogger("kiln.generation")

INTERNAL_ERROR = ("internal_server_error", "Internal Server Error, please contact support.", 500)


INCORRECT_API_KEY = "Incorrect API key provided"


def _error_triple(exc: GatewayError) -> tuple[str, str, int]:
    """A failed generation as its stream's `error` event (Dify's stream mapping: every
    model invoke error, a rate limit included, is `completion_request_error`)."""
    if isinstance(exc, ModerationFailure):  # Dify: a ValueError → invalid_param
        return "invalid_param", str(exc), 400
    if isinstance(exc, ProviderNotInitialized):
        return "provider_not_initialize", str(exc), 400
    if isinstance(exc, UpstreamAuthFailed):
        return "completion_request_error", INCORRECT_API_KEY, 400
    return "completion_request_error", str(exc), 400


def _blocking_triple(exc: GatewayError) -> tuple[str, str, int] | None:
    """Where a blocking answer differs: the Service API's 429 for a provider rate limit."""
    if isinstance(exc, UpstreamRateLimited):
        return "rate_limit_error", str(exc), 429
    return None


async def run_generation(
    runtime: Runtime,
    app_id: str,
    request_id: str,
    job: ClassicJob,
    ctx: MessageStreamContext,
    channel: EventChannel,
    stop: asyncio.Event,
    speak: bool = True,
) -> None:
    terminal: Event | None = None
    # Auto-play text to speech (app/engine/tts.py): watches the answer, adds audio events.
    tts = _start_tts(runtime, job, ctx, channel) if speak else None
    emit = channel.emit if tts is None else tts.watching(channel.emit)
    try:
        # sensitive_word_avoidance (app/engine/moderation): None when the app has none.
        moderation = moderation_for(job.config.raw, app_id, runtime.settings, runtime.gateway)
        result = await run_classic(
            job,
            runtime.gateway,
            ctx,
            emit,
            stop,
            runtime.settings.app_max_execution_time,
            moderation,
            # Annotation reply (app/services/annotations/reply.py), after input moderation.
            lambda job_: answer_from_annotation(runtime, app_id, job_, ctx, emit, stop),
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
    return start_tts(runtime.gateway, job.config.raw, ctx, channel.emit, timeout)


async def _store(ctx: MessageStreamContext, result: RunResult) -> Event:
    """Persist the result; return the event that ends the stream."""
    metadata: Event = {**result.metadata, "retriever_resources": [], "usage": result.usage}
    triple = _error_triple(result.error) if result.error is not None else None
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
        return ctx.error(*triple, http=_blocking_triple(result.error))
    return ctx.message_end(metadata)
