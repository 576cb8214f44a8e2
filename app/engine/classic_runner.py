"""Runs one classic (chat / completion / agent-chat) generation: prompt → model stream →
message events, honouring stop requests and the execution time limit."""

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.engine.app_config import AppConfig
from app.engine.events import Event, MessageStreamContext
from app.engine.prompt import Turn, build_prompt
from app.engine.tokens import count_message_tokens, count_tokens
from app.gateway.gateway import ModelGateway
from app.gateway.pricing import build_usage, context_size
from app.gateway.types import GatewayError, ModelRequest, UpstreamError, UsageCount


@dataclass(slots=True)
class ClassicJob:
    config: AppConfig
    inputs: dict[str, Any]
    query: str
    history: list[Turn]
    file_parts: list[dict[str, Any]] = field(default_factory=list)  # request images


@dataclass(slots=True)
class RunResult:
    answer: str
    usage: dict[str, Any]
    provider: str
    model: str
    stopped: bool = False
    error: GatewayError | None = None


def _model_request(job: ClassicJob, gateway: ModelGateway) -> ModelRequest:
    model = job.config.model
    request = ModelRequest(
        provider=model.provider,
        model=model.name,
        messages=[],
        params=dict(model.params),
        mode=model.mode,
    )
    request = gateway.effective(request)
    context = context_size(request.provider, request.model)
    prompt = build_prompt(job.config, job.inputs, job.query, job.history, context, job.file_parts)
    request.messages = prompt.messages
    request.stop = prompt.stop
    if context:
        _fit_max_tokens(job, request, context)
    return request


def _fit_max_tokens(job: ClassicJob, request: ModelRequest, context: int) -> None:
    """Refuse a prompt that cannot fit; otherwise lower max_tokens to what is left (Dify)."""
    max_tokens = int(request.params.get("max_tokens") or 0)
    bare = build_prompt(job.config, job.inputs, job.query, [], context, job.file_parts)
    if context - max_tokens - count_message_tokens(bare.messages) < 0:
        raise UpstreamError(
            "Query or prefix prompt is too long for the model's context: shorten the prompt, "
            "lower max_tokens, or use a model with a larger context."
        )
    prompt_tokens = count_message_tokens(request.messages)
    if max_tokens and prompt_tokens + max_tokens > context:
        request.params["max_tokens"] = max(context - prompt_tokens, 16)


async def run_classic(
    job: ClassicJob,
    gateway: ModelGateway,
    ctx: MessageStreamContext,
    emit: Callable[[Event], None],
    stop: asyncio.Event,
    max_seconds: float,
) -> RunResult:
    started = time.perf_counter()
    try:
        request = _model_request(job, gateway)
    except GatewayError as exc:  # the prompt cannot fit the model
        model = job.config.model
        zero = build_usage(model.provider, model.name, 0, 0, 0.0)
        return RunResult("", zero, model.provider, model.name, error=exc)
    parts: list[str] = []
    reported: list[UsageCount] = []
    result = RunResult("", {}, request.provider, request.model)

    async def consume() -> None:
        stream = gateway.stream(request)
        try:
            async for item in stream:
                if isinstance(item, str):
                    parts.append(item)
                    emit(ctx.message(item))
                else:
                    reported.append(item)
        finally:
            # Closing the generator closes the upstream HTTP response.
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()

    # The stream runs in its own task so a stop or the deadline can cancel it mid-read,
    # without a per-chunk check on the hot path.
    consumer = asyncio.create_task(consume())
    stop_wait = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait(
            {consumer, stop_wait}, timeout=max_seconds, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        stop_wait.cancel()
        if not consumer.done():
            consumer.cancel()
    if consumer in done:
        error = consumer.exception()
        if isinstance(error, GatewayError):
            result.error = error
        elif error is not None:
            raise error
    else:
        result.stopped = True
        with contextlib.suppress(asyncio.CancelledError, GatewayError):
            await consumer
    result.answer = "".join(parts)
    counted = reported[-1] if reported and not result.stopped else None
    if counted is None:
        # No report (or a partial answer): count as Dify does on stop.
        counted = UsageCount(count_message_tokens(request.messages), count_tokens(result.answer))
    result.usage = build_usage(
        request.provider,
        request.model,
        counted.prompt_tokens,
        counted.completion_tokens,
        time.perf_counter() - started,
    )
    return result
