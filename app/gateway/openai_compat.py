"""Direct streaming client for OpenAI-compatible endpoints: the fast path.

Reading the SSE stream with httpx and orjson costs a fraction of the CPU of a litellm
streaming call (see bench/RESULTS.md), and streams are the product.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from app.core.nul import without_nul
from app.gateway.providers import ResolvedProvider
from app.gateway.redact import body_detail, not_a_stream_detail, redact, upstream_detail
from app.gateway.tool_calls import ToolCallParts
from app.gateway.types import (
    FinishReason,
    GatewayError,
    ModelRequest,
    StreamItem,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamRateLimited,
    UsageCount,
)

_client: httpx.AsyncClient | None = None
# After [DONE] only the body's closing chunk should follow; read it so the connection goes
# back to the pool (no new TCP and TLS handshake for the next request), but never wait long.
DRAIN_SECONDS = 0.25
JSON = "application/json"
HEAD_CHARS = 64 * 1024  # of a 200 that is not an event stream, kept to say what it was


def get_client(timeout: float) -> httpx.AsyncClient:
    global _client
    if _client is None:
        _client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=10.0),
            limits=httpx.Limits(max_connections=2000, max_keepalive_connections=200),
        )
    return _client


async def close_client() -> None:
    global _client
    if _client is not None:
        await _client.aclose()
    _client = None


def _completion_prompt(messages: list[dict[str, Any]]) -> str:
    parts = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content if p.get("type") == "text")
        parts.append(str(content or ""))
    return "\n".join(parts)


def _body(request: ModelRequest) -> tuple[str, dict[str, Any]]:
    body: dict[str, Any] = {
        **request.params,
        "model": request.model,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.stop:
        body["stop"] = request.stop
    if request.mode == "completion":
        body["prompt"] = _completion_prompt(request.messages)
        return "/completions", body
    body["messages"] = request.messages
    if request.tools:
        body["tools"] = request.tools
        if request.tool_choice is not None:
            body["tool_choice"] = request.tool_choice
    if request.response_format is not None:
        body["response_format"] = request.response_format
    return "/chat/completions", body


def upstream_failure(provider: ResolvedProvider, status: int, raw: bytes) -> GatewayError:
    """A non-200 answer from an OpenAI-compatible endpoint, as a cleaned gateway error."""
    detail = body_detail(raw, (provider.api_key,), status)
    text = f"[{provider.id}] Error code: {status} - {detail}"
    if status == 429:
        return UpstreamRateLimited(text)
    if status in (401, 403):
        return UpstreamAuthFailed(text)
    return UpstreamError(text)


def _usage(usage: object) -> UsageCount | None:
    """A chunk's token counts; unreadable numbers are ignored (Kiln then counts itself)."""
    if not isinstance(usage, dict) or not usage:
        return None
    try:
        return UsageCount(
            int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
        )
    except (TypeError, ValueError):
        return None


@dataclass(slots=True)
class _Piece:
    """What one stream chunk carries."""

    text: str = ""
    usage: object = None
    tool_deltas: object = None  # the delta's `tool_calls` list, when any
    finish: str | None = None


def _piece(provider: ResolvedProvider, chunk: object, chat: bool) -> _Piece:
    """The text, usage, tool-call deltas and finish reason of one stream chunk; a provider
    error or an unexpected shape fails the generation (as the OpenAI SDK and Dify's model
    runtime do)."""
    if not isinstance(chunk, dict):
        raise UpstreamError(f"[{provider.id}] Error: unexpected stream chunk from the provider")
    error = chunk.get("error")
    if error:
        detail = error.get("message") if isinstance(error, dict) else error
        detail = upstream_detail(str(detail), (provider.api_key,))
        raise UpstreamError(f"[{provider.id}] Error: {detail}")
    found = _Piece(usage=chunk.get("usage"))
    choices = chunk.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        choice = choices[0]
        piece: object = None
        if chat:
            delta = choice.get("delta")
            if isinstance(delta, dict):
                piece = delta.get("content")
                found.tool_deltas = delta.get("tool_calls")
        else:
            piece = choice.get("text")
        if isinstance(piece, str):
            found.text = without_nul(piece)
        finish = choice.get("finish_reason")
        if isinstance(finish, str) and finish:
            found.finish = finish
    return found


def _add_tool_deltas(parts: ToolCallParts, deltas: object) -> None:
    if not isinstance(deltas, list):
        return
    for position, delta in enumerate(deltas):
        if isinstance(delta, dict):
            function = delta.get("function")
            function = function if isinstance(function, dict) else {}
            parts.add(
                position,
                delta.get("index"),
                delta.get("id"),
                function.get("name"),
                function.get("arguments"),
            )


async def _read_to_end(lines: AsyncIterator[str]) -> None:
    """The answer is complete: whatever the peer does now (stall, close, break the body)
    only costs the connection, never the answer."""
    with contextlib.suppress(TimeoutError, httpx.HTTPError):
        async with asyncio.timeout(DRAIN_SECONDS):
            async for _ in lines:
                pass


def auth_headers(provider: ResolvedProvider, content_type: str | None = JSON) -> dict[str, str]:
    headers = {"Content-Type": content_type} if content_type else {}
    if provider.api_key:
        headers["Authorization"] = f"Bearer {provider.api_key}"
    return headers


def endpoint(provider: ResolvedProvider, path: str) -> str:
    return (provider.base_url or "").rstrip("/") + path


def connection_error(provider: ResolvedProvider, exc: Exception) -> UpstreamError:
    """A transport failure, named by its type only (its text can carry the URL)."""
    text = f"[{provider.id}] Connection error: {type(exc).__name__}"
    return UpstreamError(redact(text, (provider.api_key,)))


async def post_json(
    provider: ResolvedProvider, path: str, body: dict[str, Any], timeout: float
) -> httpx.Response:
    """POST a JSON body to one of the provider's endpoints; a 200 answer or a gateway error."""
    try:
        resp = await get_client(timeout).post(
            endpoint(provider, path), content=orjson.dumps(body), headers=auth_headers(provider)
        )
    except httpx.HTTPError as exc:
        raise connection_error(provider, exc) from None
    if resp.status_code != 200:
        raise upstream_failure(provider, resp.status_code, resp.content)
    return resp


async def stream(
    provider: ResolvedProvider, request: ModelRequest, timeout: float
) -> AsyncIterator[StreamItem]:
    path, body = _body(request)
    headers = auth_headers(provider)
    url = endpoint(provider, path)
    client = get_client(timeout)
    tool_calls = ToolCallParts()
    try:
        async with client.stream("POST", url, content=orjson.dumps(body), headers=headers) as resp:
            if resp.status_code != 200:
                raise upstream_failure(provider, resp.status_code, await resp.aread())
            chat = request.mode != "completion"
            streamed = False  # a `data:` line came: this is an event stream
            head: list[str] = []  # otherwise the body's start, to say what came instead
            lines = resp.aiter_lines()
            async for line in lines:
                if not line.startswith("data:"):
                    if not streamed and sum(map(len, head)) < HEAD_CHARS:
                        head.append(line)
                    continue
                streamed = True
                data = line[5:].strip()
                if data == "[DONE]":
                    await _read_to_end(lines)
                    break
                piece = _piece(provider, orjson.loads(data), chat)
                if piece.text:
                    yield piece.text
                if piece.tool_deltas is not None:
                    _add_tool_deltas(tool_calls, piece.tool_deltas)
                if piece.finish is not None:
                    for call in tool_calls.flush():
                        yield call
                    yield FinishReason(piece.finish)
                counted = _usage(piece.usage)
                if counted is not None:
                    yield counted
            for call in tool_calls.flush():  # a peer that never said why it finished
                yield call
            if not streamed:  # empty, plain JSON, an HTML page, garbage: not an answer
                detail = not_a_stream_detail("\n".join(head)[:HEAD_CHARS], (provider.api_key,))
                raise UpstreamError(f"[{provider.id}] Error: {detail}")
    except httpx.HTTPError as exc:
        raise connection_error(provider, exc) from None
    except orjson.JSONDecodeError:
        raise UpstreamError(f"[{provider.id}] Malformed stream chunk from the provider") from None
