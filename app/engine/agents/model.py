"""One model call of an agent round: the request (the agent's model, the round's messages,
the tools offered), the stream read to its end with text relayed as it comes, the tool
calls and the token counts kept. Closing the stream on any exit (a stop cancels the task
mid-read) releases the upstream call."""

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.gateway.gateway import ModelGateway
from app.gateway.pricing import build_usage, context_size
from app.gateway.tokens import count_message_tokens, count_tokens
from app.gateway.types import FinishReason, ModelRequest, ToolCall, UsageCount

MIN_MAX_TOKENS = 16


@dataclass(frozen=True, slots=True)
class AgentModel:
    provider: str
    name: str
    mode: str = "chat"  # chat | completion
    params: dict[str, Any] = field(default_factory=dict)  # completion params without `stop`
    stop: tuple[str, ...] = ()

    def request(
        self,
        gateway: ModelGateway,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
        stop: tuple[str, ...] = (),
    ) -> ModelRequest:
        request = gateway.effective(
            ModelRequest(
                provider=self.provider,
                model=self.name,
                messages=messages,
                params=dict(self.params),
                stop=[*self.stop, *(s for s in stop if s not in self.stop)],
                mode=self.mode,
                tools=list(tools or []),
            )
        )
        _fit_max_tokens(request)
        return request


def _fit_max_tokens(request: ModelRequest) -> None:
    """Dify's recalc_llm_max_tokens: a prompt grown by earlier rounds lowers max_tokens
    to what the context has left (never below 16)."""
    size = context_size(request.provider, request.model)
    max_tokens = request.params.get("max_tokens")
    if not size or not isinstance(max_tokens, int) or max_tokens <= 0:
        return
    prompt = count_message_tokens(request.messages)
    if prompt + max_tokens > size:
        request.params["max_tokens"] = max(size - prompt, MIN_MAX_TOKENS)


@dataclass(slots=True)
class Reply:
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    provider: str = ""
    model: str = ""
    latency: float = 0.0

    def usage(self) -> dict[str, Any]:
        """Dify's usage object for this call alone."""
        return build_usage(
            self.provider, self.model, self.prompt_tokens, self.completion_tokens, self.latency
        )


async def call_model(
    gateway: ModelGateway,
    request: ModelRequest,
    on_text: Callable[[str], None] | None = None,
    on_first: Callable[[], None] | None = None,
    on_call: Callable[[ToolCall], None] | None = None,
) -> Reply:
    """Raises GatewayError as the gateway does; `on_first` runs at the first item of the
    stream (text or tool call), `on_text` for each text delta, `on_call` for each tool
    call as it arrives."""
    started = time.perf_counter()
    reply = Reply(provider=request.provider, model=request.model)
    parts: list[str] = []
    reported: UsageCount | None = None
    first = True
    stream = gateway.stream(request)
    try:
        async for item in stream:
            if first and isinstance(item, str | ToolCall):
                first = False
                if on_first is not None:
                    on_first()
            if isinstance(item, str):
                if item:
                    parts.append(item)
                    if on_text is not None:
                        on_text(item)
            elif isinstance(item, ToolCall):
                reply.tool_calls.append(item)
                if on_call is not None:
                    on_call(item)
            elif isinstance(item, FinishReason):
                reply.finish_reason = item.reason
            elif isinstance(item, UsageCount):
                reported = item
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
    reply.text = "".join(parts)
    if reported is None:  # the provider did not count: count as Dify does
        written = reply.text + "".join(call.arguments for call in reply.tool_calls)
        reported = UsageCount(count_message_tokens(request.messages), count_tokens(written))
    reply.prompt_tokens = reported.prompt_tokens
    reply.completion_tokens = reported.completion_tokens
    reply.latency = time.perf_counter() - started
    return reply


@dataclass(slots=True)
class UsageTotal:
    """Every call's tokens summed (Dify's increase_usage), priced for the model used."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    provider: str = ""
    model: str = ""

    def add(self, reply: Reply) -> None:
        self.prompt_tokens += reply.prompt_tokens
        self.completion_tokens += reply.completion_tokens
        self.provider, self.model = reply.provider, reply.model

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def usage(self, latency: float) -> dict[str, Any]:
        return build_usage(
            self.provider, self.model, self.prompt_tokens, self.completion_tokens, latency
        )
