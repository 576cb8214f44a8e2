"""Runs one classic (chat / completion / agent-chat) generation: prompt → model stream →
message events, honouring stop requests and the execution time limit."""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from app.engine.agent_chat import AgentChatTools, agent_run, run_agent_chat
from app.engine.agent_thought import AgentThought
from app.engine.agents.strategy import UnknownStrategy
from app.engine.app_config import AppConfig
from app.engine.direct_answer import stream_direct_answer
from app.engine.events import MessageStreamContext
from app.engine.knowledge.classic import classic_retrieval
from app.engine.knowledge.sources import merge_resources
from app.engine.moderation.output import OutputGuard
from app.engine.moderation.runner import REPLACE_REASON, Moderation
from app.engine.prompt import Turn, build_prompt
from app.engine.run_context import RunContext
from app.engine.workflow.env import KnowledgeService
from app.gateway.gateway import ModelGateway
from app.gateway.pricing import build_usage, context_size, empty_usage
from app.gateway.tokens import count_message_tokens, count_tokens
from app.gateway.types import GatewayError, ModelRequest, UpstreamError, UsageCount


@dataclass(slots=True)
class ClassicJob:
    config: AppConfig
    inputs: dict[str, Any]
    query: str
    history: list[Turn]
    file_parts: list[dict[str, Any]] = field(default_factory=list)  # request images
    agent: bool = False  # agent-chat: the model's answer is recorded as an agent thought
    agent_tools: AgentChatTools | None = None  # agent-chat with tools: the agent loop
    context: str | None = None  # what dataset retrieval found (None: no datasets)


@dataclass(slots=True)
class RunResult:
    answer: str
    usage: dict[str, Any]
    provider: str
    model: str
    stopped: bool = False
    error: GatewayError | None = None
    # Extra message_end metadata (e.g. `annotation_reply` for an annotation answer).
    metadata: dict[str, Any] = field(default_factory=dict)
    thoughts: list[AgentThought] = field(default_factory=list)  # agent-chat steps


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
    prompt = build_prompt(
        job.config, job.inputs, job.query, job.history, context, job.file_parts, job.context
    )
    request.messages = prompt.messages
    request.stop = prompt.stop
    if context:
        _fit_max_tokens(job, request, context)
    return request


def _fit_max_tokens(job: ClassicJob, request: ModelRequest, context: int) -> None:
    """Refuse a prompt that cannot fit; otherwise lower max_tokens to what is left (Dify)."""
    max_tokens = int(request.params.get("max_tokens") or 0)
    bare = build_prompt(job.config, job.inputs, job.query, [], context, job.file_parts, job.context)
    if context - max_tokens - count_message_tokens(bare.messages) < 0:
        raise UpstreamError(
            "Query or prefix prompt is too long for the model's context: shorten the prompt, "
            "lower max_tokens, or use a model with a larger context."
        )
    prompt_tokens = count_message_tokens(request.messages)
    if max_tokens and prompt_tokens + max_tokens > context:
        request.params["max_tokens"] = max(context - prompt_tokens, 16)


async def _moderate_input(
    job: ClassicJob,
    moderation: Moderation,
    request: ModelRequest,
    ctx: MessageStreamContext,
    run: RunContext,
) -> RunResult | None:
    """Input moderation (Dify runs it after the prompt is sized, before annotation reply and
    the model): a result when it answers instead of the model, else None (inputs and query
    possibly overridden in `job`)."""
    zero = empty_usage()
    try:
        decision = await moderation.check_input(job.inputs, job.query)
    except GatewayError as exc:  # ModerationFailure, or the moderation model failed
        return RunResult("", zero, request.provider, request.model, error=exc)
    if decision.preset is None:
        job.inputs, job.query = decision.inputs, decision.query
        return None
    stopped = await stream_direct_answer(decision.preset, ctx, run)
    return RunResult(decision.preset, zero, request.provider, request.model, stopped=stopped)


T = TypeVar("T")

# Answers instead of the model when it returns a result (annotation reply).
EarlyAnswer = Callable[[ClassicJob], Awaitable[RunResult | None]]


async def run_classic(
    job: ClassicJob,
    run: RunContext,
    ctx: MessageStreamContext,
    moderation: Moderation | None = None,
    answer_early: EarlyAnswer | None = None,
    knowledge: KnowledgeService | None = None,
) -> RunResult:
    """`knowledge`: the mapped knowledge bases (None: none are mapped). Agent-chat apps
    get their datasets as agent tools in Dify, so they are not retrieved here."""
    started = time.perf_counter()
    gateway = run.gateway
    try:
        request = _model_request(job, gateway)
    except GatewayError as exc:  # the prompt cannot fit the model
        model = job.config.model
        zero = build_usage(model.provider, model.name, 0, 0, 0.0)
        return RunResult("", zero, model.provider, model.name, error=exc)
    early: RunResult | None = None
    if moderation is not None:
        asked = (job.inputs, job.query)
        early = await _moderate_input(job, moderation, request, ctx, run)
        if early is None and (job.inputs, job.query) != asked:  # overridden: new prompt
            request = _model_request(job, gateway)
    # Annotation reply (app/services/annotations/reply.py): after input moderation, before
    # the model, as Dify orders them; a result means the model is not called.
    if early is None and answer_early is not None:
        early = await answer_early(job)
    if early is not None and early.error is not None:  # moderation itself failed
        return early
    resources: list[dict[str, Any]] = []
    if early is None and not job.agent:
        # Dataset retrieval (app/engine/knowledge/classic.py), then the prompt again.
        try:
            retrieval = classic_retrieval(job.config, job.inputs, job.query, gateway, knowledge)
            stopped, found = await _unless_stopped(run, retrieval)
            if stopped:
                return RunResult("", empty_usage(), request.provider, request.model, stopped=True)
            if found is not None:
                job.context, resources = found.context, found.resources
                request = _model_request(job, gateway)
        except GatewayError as exc:  # a dataset unmapped or failing; the prompt too long
            return RunResult("", empty_usage(), request.provider, request.model, error=exc)
    guard: OutputGuard | None = None
    if moderation is not None:
        guard = moderation.output_guard(
            lambda text: run.emit(ctx.message_replace(text, REPLACE_REASON))
        )
    if early is not None:
        return await _moderate_direct_answer(early, guard)
    try:
        if job.agent_tools is not None:
            result = await _run_agent(job, job.agent_tools, run, request, ctx, guard)
            resources = merge_resources(job.agent_tools.resources)
        else:
            result = await _run_model(job, run, request, ctx, guard, started)
    finally:
        if guard is not None:
            guard.close()
    if resources:
        result.metadata["retriever_resources"] = resources
    return result


async def _unless_stopped(run: RunContext, work: Awaitable[T]) -> tuple[bool, T | None]:
    """`work`'s result, or (True, None) when a stop or the deadline came first (the work is
    cancelled: a slow retrieval service never holds a stopped generation)."""
    task = asyncio.ensure_future(work)
    if await run.finishes(task):
        return False, task.result()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    return True, None


async def _moderate_direct_answer(result: RunResult, guard: OutputGuard | None) -> RunResult:
    """Dify moderates every answer once it ends, direct answers included."""
    if guard is not None:
        final = await guard.finish(result.answer)
        if final is not None:
            result.answer = final
    return result


async def _run_agent(
    job: ClassicJob,
    tools: AgentChatTools,
    run: RunContext,
    request: ModelRequest,
    ctx: MessageStreamContext,
    guard: OutputGuard | None,
) -> RunResult:
    """Agent-chat with tools (app/engine/agent_chat.py); output moderation as for any
    answer: on the streamed text, and once on the final answer."""
    try:
        kind, agent = agent_run(job.config, job.inputs, job.query, tools, run, job.file_parts)
    except UnknownStrategy as exc:  # checked before the run starts; kept for safety
        error = UpstreamError(str(exc))
        return RunResult("", empty_usage(), request.provider, request.model, error=error)
    found = await run_agent_chat(kind, agent, run, ctx, guard, tools.save_file)
    result = RunResult(
        found.answer,
        found.usage,
        found.provider or request.provider,
        found.model or request.model,
        stopped=found.stopped,
        error=found.error,
        thoughts=found.thoughts,
    )
    if guard is not None and result.error is None:
        final = await guard.finish(result.answer)
        if final is not None:
            result.answer = final
    return result


async def _run_model(
    job: ClassicJob,
    run: RunContext,
    request: ModelRequest,
    ctx: MessageStreamContext,
    guard: OutputGuard | None,
    started: float,
) -> RunResult:
    emit = run.emit
    parts: list[str] = []
    reported: list[UsageCount] = []
    result = RunResult("", {}, request.provider, request.model)
    # Dify's agent runner announces its step with the first chunk and again once saved.
    step = AgentThought(position=1) if job.agent else None
    if step is not None:
        result.thoughts.append(step)

    async def consume() -> None:
        stream = run.gateway.stream(request)
        try:
            async for item in stream:
                if isinstance(item, str):
                    if step is not None and not parts:
                        emit(ctx.agent_thought(step))
                    parts.append(item)
                    if guard is not None:
                        if guard.final_output is not None:
                            break  # output moderation took over the answer
                        guard.append(item)
                    emit(ctx.message(item))
                elif isinstance(item, UsageCount):
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
    if await run.finishes(consumer, *([guard.blocked] if guard is not None else [])):
        error = consumer.exception()
        if isinstance(error, GatewayError):
            result.error = error
        elif error is not None:
            raise error
    else:
        result.stopped = guard is None or not guard.blocked.is_set()
        with contextlib.suppress(asyncio.CancelledError, GatewayError):
            await consumer
    result.answer = "".join(parts)
    if step is not None and result.error is None:  # saved, announced before moderation
        step.thought = result.answer
        if not result.stopped:
            emit(ctx.agent_thought(step))
    replaced = False
    if guard is not None and result.error is None:  # a failed answer ends with `error`
        final = await guard.finish(result.answer)
        if final is not None:
            result.answer, replaced = final, guard.blocked.is_set()
    counted = reported[-1] if reported and not (result.stopped or replaced) else None
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
    if step is not None:
        step.tokens = counted.prompt_tokens + counted.completion_tokens
    return result
