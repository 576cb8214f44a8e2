"""One model call from a node: the gateway stream read to its end (text deltas relayed as
they come), tool calls and the finish reason kept, usage priced, gateway failures turned
into the node's error. Cancelling the node task (a stop, the deadline) closes the upstream
stream at once."""

import contextlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.engine.nodes.base import NodeContext, NodeError, Usage
from app.engine.nodes.llm.entities import ModelSettings
from app.engine.variables.pool import VariablePool
from app.engine.variables.templates import render
from app.gateway.pricing import build_usage
from app.gateway.tokens import count_message_tokens, count_tokens
from app.gateway.types import (
    FinishReason,
    GatewayError,
    ModelRequest,
    ProviderNotInitialized,
    ToolCall,
    UpstreamAuthFailed,
    UpstreamRateLimited,
    UsageCount,
)

INCORRECT_API_KEY = "Incorrect API key provided"
_HAS_SELECTOR = re.compile(r"\{\{#[^#]+#\}\}")
MAX_RESOLVED_PARAM = 1024  # characters of a completion parameter filled from a variable
_TRUNCATE_AT = 30  # longer file data in saved prompts is shortened, as Dify does


@dataclass(slots=True)
class ModelReply:
    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)  # Dify's usage object
    provider: str = ""  # the model that answered (after KILN_MODEL_OVERRIDE)
    model: str = ""

    @property
    def node_usage(self) -> Usage:
        return Usage(
            prompt_tokens=int(self.usage.get("prompt_tokens") or 0),
            completion_tokens=int(self.usage.get("completion_tokens") or 0),
            total_price=str(self.usage.get("total_price") or "0"),
            currency=str(self.usage.get("currency") or "USD"),
        )


def model_error(exc: GatewayError) -> NodeError:
    """The node's error for a failed model call (texts are redacted by the gateway; a
    refused key says no more than Dify does)."""
    if isinstance(exc, ProviderNotInitialized):
        return NodeError(str(exc), "ProviderTokenNotInitError")
    if isinstance(exc, UpstreamAuthFailed):
        return NodeError(INCORRECT_API_KEY, "InvokeAuthorizationError")
    if isinstance(exc, UpstreamRateLimited):
        return NodeError(str(exc), "InvokeRateLimitError")
    return NodeError(str(exc), "InvokeError")


def resolved_params(params: dict[str, Any], pool: VariablePool) -> dict[str, Any]:
    """Completion parameters whose string value names variables (`{{#node.var#}}`) take
    the rendered text, cut at 1024 characters, read back as a number or boolean when it
    is one (a variable holding "0.7" becomes 0.7)."""
    resolved: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, str) and _HAS_SELECTOR.search(value):
            text = render(value, pool)[:MAX_RESOLVED_PARAM]
            try:
                parsed = json.loads(text.strip()) if text.strip() else text
            except ValueError:
                parsed = text
            value = parsed if isinstance(parsed, int | float | bool) else text
        resolved[key] = value
    return resolved


def build_request(ctx: NodeContext, model: ModelSettings) -> ModelRequest:
    """The request as the gateway will send it (KILN_MODEL_OVERRIDE applied), so prompts
    are budgeted and usage priced for the model that answers; messages come later."""
    request = ModelRequest(
        provider=model.provider,
        model=model.name,
        messages=[],
        params=resolved_params(model.params, ctx.pool),
        stop=list(model.stop),
        mode=model.mode,
    )
    return ctx.run.gateway.effective(request)


def prompts_for_saving(mode: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The prompt as Dify keeps it in a node's process data: role, text and files per
    message (file data shortened)."""
    saved = []
    for message in messages:
        content = message.get("content")
        text, files = "", []
        if isinstance(content, list):
            for part in content:
                if not isinstance(part, dict):
                    continue
                if part.get("type") == "text":
                    text += str(part.get("text") or "")
                    continue
                payload = part.get(str(part.get("type")))
                data = str(payload.get("url") if isinstance(payload, dict) else payload or "")
                if len(data) > _TRUNCATE_AT:
                    data = data[:10] + "...[TRUNCATED]..." + data[-10:]
                files.append({"type": part.get("type"), "data": data})
        else:
            text = str(content or "")
        entry: dict[str, Any] = {"role": message.get("role"), "text": text, "files": files}
        if message.get("tool_calls"):
            entry["tool_calls"] = message["tool_calls"]
        saved.append(entry)
    if mode == "completion" and saved:
        return [{"role": "user", "text": saved[0]["text"], "files": saved[0]["files"]}]
    return saved


async def call_model(
    ctx: NodeContext, request: ModelRequest, on_text: Callable[[str], None] | None = None
) -> ModelReply:
    request = ctx.run.gateway.effective(request)
    started = time.perf_counter()
    parts: list[str] = []
    reply = ModelReply("", provider=request.provider, model=request.model)
    reported: UsageCount | None = None
    try:
        stream = ctx.run.gateway.stream(request)
    except GatewayError as exc:
        raise model_error(exc) from None
    try:
        async for item in stream:
            if isinstance(item, str):
                if item:
                    parts.append(item)
                    if on_text is not None:
                        on_text(item)
            elif isinstance(item, ToolCall):
                reply.tool_calls.append(item)
            elif isinstance(item, FinishReason):
                reply.finish_reason = item.reason
            elif isinstance(item, UsageCount):
                reported = item
    except GatewayError as exc:
        raise model_error(exc) from None
    finally:
        # Closing the generator closes the upstream response (also when this task is
        # cancelled mid-read: the stop or the deadline).
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
    reply.text = "".join(parts)
    if reported is None:  # the provider did not count: count as Dify does
        completion = reply.text + "".join(call.arguments for call in reply.tool_calls)
        reported = UsageCount(count_message_tokens(request.messages), count_tokens(completion))
    reply.usage = build_usage(
        request.provider,
        request.model,
        reported.prompt_tokens,
        reported.completion_tokens,
        time.perf_counter() - started,
    )
    return reply
