"""A scripted model gateway for in-process engine tests: no server, no upstream.

The reply rule is the one the graph fixtures use (tests/fixtures/graphs/README.md): the first
scripted entry whose `when` text occurs in the prompt answers; otherwise the reply is
`echo:` + the last user message's text."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from app.core.config import Settings
from app.gateway.gateway import ModelGateway
from app.gateway.types import GatewayError, ModelRequest, UsageCount


@dataclass(slots=True)
class Scripted:
    when: str
    reply: str = ""
    tool_call: dict[str, Any] | None = None


def message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text") or "") for p in content if isinstance(p, dict))
    return ""


@dataclass
class FakeGateway(ModelGateway):
    script: list[Scripted] = field(default_factory=list)
    token_delay: float = 0.0
    fail_with: GatewayError | None = None
    hold: asyncio.Event | None = None  # set: tokens flow; unset: the stream waits
    calls: list[ModelRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(Settings())

    def effective(self, request: ModelRequest) -> ModelRequest:
        return request

    def check(self, request: ModelRequest) -> None:
        return None

    def reply_for(self, request: ModelRequest) -> str:
        texts = [message_text(m) for m in request.messages]
        for entry in self.script:
            if any(entry.when in text for text in texts):
                return entry.reply
        users = [message_text(m) for m in request.messages if m.get("role") == "user"]
        return "echo:" + (users[-1] if users else (texts[-1] if texts else ""))

    def stream(self, request: ModelRequest) -> AsyncIterator[str | UsageCount]:
        self.calls.append(request)
        return self._stream(request)

    async def _stream(self, request: ModelRequest) -> AsyncIterator[str | UsageCount]:
        if self.fail_with is not None:
            raise self.fail_with
        reply = self.reply_for(request)
        for index, word in enumerate(reply.split(" ")):
            if self.hold is not None:
                await self.hold.wait()
            if self.token_delay:
                await asyncio.sleep(self.token_delay)
            yield word if index == 0 else " " + word
        yield UsageCount(prompt_tokens=7, completion_tokens=len(reply.split(" ")))
