"""The offline development model (`provider: kiln`, `name: echo`).

It answers with a deterministic reply derived from the prompt, one token at a time,
and reports usage counted with the same tokenizer it streams with.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from app.gateway.tokens import count_message_tokens, split_tokens
from app.gateway.types import ModelRequest, UpstreamError, UsageCount

MODELS = ("echo",)


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, list):
            return " ".join(str(p.get("text", "")) for p in content if p.get("type") == "text")
        return str(content or "")
    return ""


def reply_for(messages: list[dict[str, Any]]) -> str:
    turns = sum(1 for m in messages if m.get("role") == "user")
    return f"Echo (turn {turns}): {_last_user_text(messages)}"


async def stream(request: ModelRequest, token_delay: float) -> AsyncIterator[str | UsageCount]:
    if request.model not in MODELS:
        raise UpstreamError(f"[kiln] Model {request.model} does not exist; use one of {MODELS}")
    reply = reply_for(request.messages)
    for stop in request.stop:
        if stop and stop in reply:
            reply = reply[: reply.index(stop)]
    pieces = split_tokens(reply)
    max_tokens = request.params.get("max_tokens")
    if isinstance(max_tokens, int) and max_tokens > 0:
        pieces = pieces[:max_tokens]
    prompt_tokens = count_message_tokens(request.messages)
    sent = 0
    for piece in pieces:
        if token_delay:
            await asyncio.sleep(token_delay)
        sent += 1
        yield piece
    yield UsageCount(prompt_tokens, sent)
