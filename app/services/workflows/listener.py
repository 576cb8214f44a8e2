"""The listening side of a workflow app's run: SSE frames, or Dify's blocking body built
from `workflow_finished`."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from app.core import errors
from app.engine.channel import EventChannel
from app.services.generation.listener import http_error

_BLOCKING_FIELDS = (
    "id",
    "workflow_id",
    "status",
    "outputs",
    "error",
    "elapsed_time",
    "total_tokens",
    "total_steps",
    "created_at",
    "finished_at",
)


def paused_data(event: dict[str, Any]) -> dict[str, Any]:
    """A blocking request's answer when its run paused: the run so far and its reasons."""
    data = event["data"]
    return {
        "id": event["workflow_run_id"],
        "workflow_run_id": event["workflow_run_id"],
        "status": "paused",
        "outputs": data.get("outputs") or {},
        "paused_nodes": data.get("paused_nodes") or [],
        "reasons": data.get("reasons") or [],
        "elapsed_time": data.get("elapsed_time"),
        "total_tokens": data.get("total_tokens"),
        "total_steps": data.get("total_steps"),
        "created_at": data.get("created_at"),
    }


@dataclass(slots=True)
class WorkflowGeneration:
    task_id: str
    workflow_run_id: str
    channel: EventChannel

    def sse(self) -> AsyncIterator[bytes]:
        return self.channel.sse_frames()

    async def blocking_response(self) -> dict[str, Any]:
        try:
            async for event in self.channel.events():
                kind = event["event"]
                if kind == "workflow_finished":
                    data = event["data"]
                    return {
                        "task_id": self.task_id,
                        "workflow_run_id": self.workflow_run_id,
                        "data": {key: data.get(key) for key in _BLOCKING_FIELDS},
                    }
                if kind == "workflow_paused":  # Dify's WorkflowAppPausedBlockingResponse
                    return {
                        "task_id": self.task_id,
                        "workflow_run_id": self.workflow_run_id,
                        "data": paused_data(event),
                    }
                if kind == "error":
                    raise http_error(event["code"], event["message"], event["status"])
        finally:
            self.channel.detach()
        raise errors.DifyError()
