"""The listening side of a generation: SSE frames, or one blocking JSON body."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from app.core import errors
from app.engine.channel import EventChannel
from app.engine.events import MessageStreamContext


@dataclass(slots=True)
class Generation:
    ctx: MessageStreamContext
    mode: str
    channel: EventChannel

    def sse(self) -> AsyncIterator[bytes]:
        return self.channel.sse_frames()

    async def blocking_response(self) -> dict[str, Any]:
        parts: list[str] = []
        try:
            async for event in self.channel.events():
                kind = event["event"]
                if kind in ("message", "agent_message"):
                    parts.append(event["answer"])
                elif kind == "message_replace":
                    parts = [event["answer"]]
                elif kind == "error":
                    http = getattr(event, "http", None)
                    raise http_error(*(http or (event["code"], event["message"], event["status"])))
                elif kind == "message_end":
                    return self._blocking_body("".join(parts), event["metadata"])
                elif kind == "workflow_paused":  # a chatflow waiting on a human input form
                    return self._paused_body("".join(parts), event)
        finally:
            self.channel.detach()
        raise errors.DifyError()

    def _blocking_body(self, answer: str, metadata: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "event": "message",
            "task_id": self.ctx.task_id,
            "id": self.ctx.message_id,
            "message_id": self.ctx.message_id,
        }
        if self.ctx.conversation_id is not None:
            body["conversation_id"] = self.ctx.conversation_id
        body.update(
            mode=self.mode, answer=answer, metadata=metadata, created_at=self.ctx.created_at
        )
        return body

    def _paused_body(self, answer: str, event: dict[str, Any]) -> dict[str, Any]:
        """Dify's paused chat body: `event: workflow_paused` (what tells it from a finished
        message's), the message so far, the pause under `data`."""
        message = self._blocking_body(answer, {})
        del message["event"], message["task_id"]
        run_id, pause = event["workflow_run_id"], event["data"]
        data = {
            **message,
            "workflow_run_id": run_id,
            "paused_nodes": pause.get("paused_nodes") or [],
            "reasons": pause.get("reasons") or [],
            "status": "paused",
            **{key: pause.get(key) for key in ("elapsed_time", "total_tokens", "total_steps")},
        }
        return {
            "event": "workflow_paused",
            "task_id": self.ctx.task_id,
            **message,
            "workflow_run_id": run_id,
            "data": data,
        }


def http_error(code: str, message: str, status: int) -> errors.DifyError:
    """An `error` event as the HTTP error a blocking request answers."""
    error = errors.DifyError(message)
    error.code, error.status = code, status
    return error
