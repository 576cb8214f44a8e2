"""A scripted model gateway for in-process engine tests: no server, no upstream.

The reply rule is the one the graph fixtures use (tests/fixtures/graphs/README.md, "The
stub model rule"): the first scripted entry whose `when` text occurs in the text of any
message answers (a `tool_call` entry only when the call offered tools); otherwise the reply
is `echo:` + the last user message's text (`echo:` + the prompt for a completion model)."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from app.core.config import Settings
from app.gateway.gateway import ModelGateway
from app.gateway.types import (
    FinishReason,
    GatewayError,
    ModelRequest,
    StreamItem,
    ToolCall,
    UsageCount,
)


@dataclass(slots=True)
class Scripted:
    when: str
    reply: str = ""
    tool_call: dict[str, Any] | None = None  # {"name": ..., "arguments": {...}}


def message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(p.get("text") or "")
            for p in content
            if isinstance(p, dict) and p.get("type", "text") == "text"
        )
    return ""


@dataclass
class FakeGateway(ModelGateway):
    script: list[Scripted] = field(default_factory=list)
    token_delay: float = 0.0
    fail_with: GatewayError | None = None
    hold: asyncio.Event | None = None  # set: tokens flow; unset: the stream waits
    calls: list[ModelRequest] = field(default_factory=list)
    closed: int = 0  # streams that ended, were closed or were cancelled (upstream released)

    def __post_init__(self) -> None:
        super().__init__(Settings())

    def effective(self, request: ModelRequest) -> ModelRequest:
        return request

    def check(self, request: ModelRequest) -> None:
        return None

    def answer_for(self, request: ModelRequest) -> Scripted:
        """The scripted entry that answers, or the echo reply."""
        texts = [message_text(m) for m in request.messages]
        for entry in self.script:
            if entry.tool_call is not None and not request.tools:
                continue
            if any(entry.when in text for text in texts):
                return entry
        if request.mode == "completion":
            return Scripted("", "echo:" + "".join(texts))
        users = [message_text(m) for m in request.messages if m.get("role") == "user"]
        return Scripted("", "echo:" + (users[-1] if users else ""))

    def reply_for(self, request: ModelRequest) -> str:
        return self.answer_for(request).reply

    def stream(self, request: ModelRequest) -> AsyncIterator[StreamItem]:
        self.calls.append(request)
        return self._stream(request)

    async def _stream(self, request: ModelRequest) -> AsyncIterator[StreamItem]:
        try:
            if self.fail_with is not None:
                raise self.fail_with
            answer = self.answer_for(request)
            if answer.tool_call is not None:
                if self.hold is not None:
                    await self.hold.wait()
                arguments = json.dumps(answer.tool_call.get("arguments") or {})
                yield ToolCall("call_fake_0", str(answer.tool_call["name"]), arguments)
                yield FinishReason("tool_calls")
                yield UsageCount(prompt_tokens=7, completion_tokens=1)
                return
            reply = answer.reply
            for index, word in enumerate(reply.split(" ")):
                if self.hold is not None:
                    await self.hold.wait()
                if self.token_delay:
                    await asyncio.sleep(self.token_delay)
                yield word if index == 0 else " " + word
            yield FinishReason("stop")
            yield UsageCount(prompt_tokens=7, completion_tokens=len(reply.split(" ")))
        finally:
            self.closed += 1
