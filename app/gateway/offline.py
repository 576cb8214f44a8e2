"""The offline development model (`provider: kiln`, `name: echo`).

It answers with a deterministic reply derived from the prompt, one token at a time,
and reports usage counted with the same tokenizer it streams with. Offered tools, it calls
the first one (or the one `tool_choice` names) with arguments shaped like its parameters'
schema, unless the last message is a tool's answer (then it answers in text, so an agent's
loop ends); asked for JSON (`response_format`), it answers an object shaped like the schema.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from app.gateway.offline_json import response_schema, sample
from app.gateway.tokens import count_message_tokens, count_tokens, split_tokens
from app.gateway.types import (
    FinishReason,
    ModelRequest,
    StreamItem,
    ToolCall,
    UpstreamError,
    UsageCount,
)

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


def _readable(text: str) -> str:
    """A JSON object sent with raw line breaks inside its strings (a classifier's prompt
    around a multi-line query) is echoed as valid JSON, so the caller can read it back."""
    if not text.lstrip().startswith("{"):
        return text
    try:
        json.loads(text)
        return text
    except ValueError:
        pass
    try:
        return json.dumps(json.loads(text, strict=False), ensure_ascii=False)
    except ValueError:
        return text


def reply_for(messages: list[dict[str, Any]]) -> str:
    turns = sum(1 for m in messages if m.get("role") == "user")
    return f"Echo (turn {turns}): {_readable(_last_user_text(messages))}"


def _chosen_tool(request: ModelRequest) -> dict[str, Any] | None:
    """The function the offline model calls: the one `tool_choice` names, else the first."""
    functions: list[dict[str, Any]] = [
        f for t in request.tools if isinstance(f := t.get("function"), dict) and f.get("name")
    ]
    if not functions or request.tool_choice == "none":
        return None
    if request.messages and request.messages[-1].get("role") == "tool":
        return None  # a tool has answered: time to answer
    choice = request.tool_choice
    if isinstance(choice, dict):
        wanted = (choice.get("function") or {}).get("name")
        return next((f for f in functions if f.get("name") == wanted), functions[0])
    return functions[0]


def tool_call_for(request: ModelRequest) -> ToolCall | None:
    function = _chosen_tool(request)
    if function is None:
        return None
    arguments = sample(function.get("parameters") or {"type": "object"})
    return ToolCall("call_kiln_0", str(function["name"]), json.dumps(arguments))


def json_reply_for(response_format: dict[str, Any]) -> str:
    schema = response_schema(response_format)
    return json.dumps(sample(schema) if schema is not None else {})


async def stream(request: ModelRequest, token_delay: float) -> AsyncIterator[StreamItem]:
    if request.model not in MODELS:
        raise UpstreamError(f"[kiln] Model {request.model} does not exist; use one of {MODELS}")
    prompt_tokens = count_message_tokens(request.messages)
    call = tool_call_for(request)
    if call is not None:
        if token_delay:
            await asyncio.sleep(token_delay)
        yield call
        yield FinishReason("tool_calls")
        yield UsageCount(prompt_tokens, count_tokens(call.arguments))
        return
    if request.response_format is not None:
        reply = json_reply_for(request.response_format)
    else:
        reply = reply_for(request.messages)
    for stop in request.stop:
        if stop and stop in reply:
            reply = reply[: reply.index(stop)]
    pieces = split_tokens(reply)
    max_tokens = request.params.get("max_tokens")
    finish = "stop"
    if isinstance(max_tokens, int) and 0 < max_tokens < len(pieces):
        pieces, finish = pieces[:max_tokens], "length"
    sent = 0
    for piece in pieces:
        if token_delay:
            await asyncio.sleep(token_delay)
        sent += 1
        yield piece
    yield FinishReason(finish)
    yield UsageCount(prompt_tokens, sent)
