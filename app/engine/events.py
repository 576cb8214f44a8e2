"""The one event model: every stream (classic now, workflow later) is a sequence of dicts
with an `event` field, framed for SSE exactly as Dify frames them."""

from dataclasses import dataclass
from typing import Any

import orjson

from app.engine.agent_thought import AgentThought

Event = dict[str, Any]


class ErrorEvent(dict[str, Any]):
    """An `error` event. `http` is how a blocking request answers the same failure where
    Dify's controller maps it apart from the stream (a provider rate limit is 429 there);
    it is not part of the event's JSON."""

    http: tuple[str, str, int] | None = None


PING_FRAME = b"event: ping\n\n"


def sse_frame(event: Event) -> bytes:
    """`data: {json}\\n\\n`: one line, no `event:` line, compact JSON."""
    return b"data: " + orjson.dumps(event) + b"\n\n"


@dataclass(slots=True)
class MessageStreamContext:
    """The fields every event of one chat/completion stream carries."""

    task_id: str
    message_id: str
    conversation_id: str | None  # None for completion apps: their events omit it
    created_at: int
    answer_event: str = "message"  # "agent_message" for agent-chat apps

    def base(self, event: str) -> Event:
        payload: Event = {"event": event}
        if self.conversation_id is not None:
            payload["conversation_id"] = self.conversation_id
        payload["message_id"] = self.message_id
        payload["created_at"] = self.created_at
        payload["task_id"] = self.task_id
        return payload

    def message(self, answer: str) -> Event:
        return self._answer(self.answer_event, answer)

    def direct_message(self, answer: str) -> Event:
        """Direct answers (moderation presets, annotation replies) are `message` events in
        every app mode: Dify publishes them as plain LLM chunks, agent-chat included."""
        return self._answer("message", answer)

    def _answer(self, event: str, answer: str) -> Event:
        payload = self.base(event)
        payload["id"] = self.message_id
        payload["answer"] = answer
        return payload

    def agent_thought(self, step: AgentThought) -> Event:
        payload = self.base("agent_thought")
        payload.update(
            id=step.id,
            position=step.position,
            thought=step.thought,
            observation=step.observation,
            tool=step.tool,
            tool_labels=step.tool_labels,
            tool_input=step.tool_input,
            message_files=step.message_files,
        )
        return payload

    def message_file(self, file_id: str, kind: str, url: str, belongs_to: str) -> Event:
        """A file of the answer (a tool's image in agent-chat), Dify's MessageFileStreamResponse."""
        payload = self.base("message_file")
        payload.update(id=file_id, type=kind, belongs_to=belongs_to, url=url)
        return payload

    def message_replace(self, answer: str, reason: str = "") -> Event:
        payload = self.base("message_replace")
        payload["answer"] = answer
        payload["reason"] = reason
        return payload

    def message_end(
        self, metadata: dict[str, Any], files: list[dict[str, Any]] | None = None
    ) -> Event:
        """`files`: an advanced-chat answer's files (always a list there, as in Dify)."""
        payload = self.base("message_end")
        payload["id"] = self.message_id
        if files is not None:
            payload["files"] = files
        payload["metadata"] = metadata
        return payload

    def error(
        self, code: str, message: str, status: int, http: tuple[str, str, int] | None = None
    ) -> Event:
        # Dify's error events carry no task_id.
        payload = ErrorEvent(self.base("error"))
        del payload["task_id"]
        payload.update(code=code, status=status, message=message)
        payload.http = http
        return payload
