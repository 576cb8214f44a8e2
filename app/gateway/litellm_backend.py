"""Breadth path: every provider litellm knows, imported lazily off the event loop."""

import asyncio
import importlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from app.core.nul import without_nul
from app.gateway.providers import ResolvedProvider
from app.gateway.redact import upstream_detail
from app.gateway.tool_calls import ToolCallParts
from app.gateway.types import (
    FinishReason,
    ModelRequest,
    StreamItem,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamRateLimited,
    UsageCount,
)

_litellm: Any = None
_import_lock = asyncio.Lock()


async def load_litellm() -> Any:
    """litellm's import takes seconds; do it once, in a thread."""
    global _litellm
    if _litellm is None:
        async with _import_lock:
            if _litellm is None:
                # litellm's import turns httpx's request log off; keep the operator's level.
                httpx_level = logging.getLogger("httpx").level
                module: Any = await asyncio.to_thread(importlib.import_module, "litellm")
                logging.getLogger("httpx").setLevel(httpx_level)
                module.suppress_debug_info = True
                module.telemetry = False
                _litellm = module
    return _litellm


def _add_tool_deltas(parts: ToolCallParts, deltas: Any) -> None:
    for position, delta in enumerate(deltas or []):
        function = getattr(delta, "function", None)
        parts.add(
            position,
            getattr(delta, "index", None),
            getattr(delta, "id", None),
            getattr(function, "name", None),
            getattr(function, "arguments", None),
        )


async def stream(
    provider: ResolvedProvider, request: ModelRequest, timeout: float
) -> AsyncIterator[StreamItem]:
    litellm = await load_litellm()
    kwargs: dict[str, Any] = {
        **request.params,
        "model": f"{provider.spec.litellm_prefix}/{request.model}",
        "messages": request.messages,
        "stream": True,
        "stream_options": {"include_usage": True},
        "timeout": timeout,
    }
    if request.stop:
        kwargs["stop"] = request.stop
    if request.tools:
        kwargs["tools"] = request.tools
        if request.tool_choice is not None:
            kwargs["tool_choice"] = request.tool_choice
    if request.response_format is not None:
        kwargs["response_format"] = request.response_format
    if provider.api_key:
        kwargs["api_key"] = provider.api_key
    if provider.base_url:
        kwargs["api_base"] = provider.base_url
    secrets = (provider.api_key,)
    # litellm ends an empty or unreadable 200 as a quiet stream with a made-up `stop`: only
    # text or the provider's usage show that a model answered.
    answered = False
    calls = ToolCallParts()
    try:
        response = await litellm.acompletion(**kwargs)
        async for chunk in response:
            choices = getattr(chunk, "choices", None)
            if choices:
                delta = choices[0].delta
                piece = getattr(delta, "content", None)
                if piece:
                    answered = True
                    yield without_nul(piece)
                deltas = getattr(delta, "tool_calls", None)
                if deltas:
                    answered = True  # a tool call is an answer too
                    _add_tool_deltas(calls, deltas)
                finish = getattr(choices[0], "finish_reason", None)
                if isinstance(finish, str) and finish:
                    for call in calls.flush():
                        yield call
                    yield FinishReason(finish)
            usage = getattr(chunk, "usage", None)
            if usage and getattr(usage, "total_tokens", 0):
                answered = True
                yield UsageCount(int(usage.prompt_tokens or 0), int(usage.completion_tokens or 0))
        for call in calls.flush():
            yield call
    except Exception as exc:  # litellm raises many types; map by status
        status = getattr(exc, "status_code", None)
        detail = upstream_detail(f"{type(exc).__name__}: {exc}", secrets, status)
        text = f"[{provider.id}] {detail}"
        if status == 429 or type(exc).__name__ == "RateLimitError":
            raise UpstreamRateLimited(text) from None
        if status in (401, 403):
            raise UpstreamAuthFailed(text) from None
        raise UpstreamError(text) from None
    if not answered:
        raise UpstreamError(f"[{provider.id}] Error: Upstream returned no answer")
