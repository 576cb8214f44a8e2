"""A workflow run's events with Dify's envelopes and data fields
(api/core/app/entities/task_entities.py): workflow apps send `{event, workflow_run_id,
task_id, data}`; advanced-chat events also carry `conversation_id`, `message_id` and
`created_at` up front, and answer text goes out as `message` events."""

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.engine.events import Event, MessageStreamContext
from app.engine.graph.model import NodeSpec
from app.engine.variables.values import output_files, plain
from app.engine.workflow.env import RunScope

SECRET_MASK = "************"


def scrub(value: Any, secrets: Iterable[str]) -> Any:
    """Secret environment values never reach an event (or what is stored from one)."""
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, SECRET_MASK)
        return value
    if isinstance(value, dict):
        return {k: scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, secrets) for v in value]
    return value


@dataclass(slots=True)
class NodeExecution:
    """One run of one node, as its events and stored row describe it."""

    id: str
    spec: NodeSpec
    index: int
    predecessor_node_id: str | None
    scope: RunScope
    started: float  # time.time()
    inputs: dict[str, Any] | None = None
    process_data: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    status: str = "running"
    error: str | None = None
    error_type: str | None = None
    metadata: dict[str, Any] | None = None
    finished: float | None = None
    retry_index: int = 0
    handle: str | None = None  # the edge handle it selected (branch nodes, fail-branch)

    @property
    def elapsed(self) -> float:
        return (self.finished or time.time()) - self.started


@dataclass(slots=True)
class WorkflowStream:
    task_id: str
    workflow_run_id: str
    chat: MessageStreamContext | None = None  # advanced-chat: the message being answered
    secrets: frozenset[str] = frozenset()

    def envelope(self, event: str) -> Event:
        if self.chat is None:
            return {
                "event": event,
                "workflow_run_id": self.workflow_run_id,
                "task_id": self.task_id,
            }
        return {
            "event": event,
            "conversation_id": self.chat.conversation_id,
            "message_id": self.chat.message_id,
            "created_at": self.chat.created_at,
            "task_id": self.task_id,
        }

    def _workflow_event(self, event: str, data: dict[str, Any]) -> Event:
        payload = self.envelope(event)
        payload["workflow_run_id"] = self.workflow_run_id
        payload["data"] = scrub(data, self.secrets) if self.secrets else data
        return payload

    def workflow_started(
        self, workflow_id: str, inputs: Mapping[str, Any], created: int, reason: str = "initial"
    ) -> Event:
        data = {
            "id": self.workflow_run_id,
            "workflow_id": workflow_id,
            "inputs": plain(dict(inputs)),
            "created_at": created,
            "reason": reason,  # Dify's WorkflowStartReason: "initial" or "resumption"
        }
        return self._workflow_event("workflow_started", data)

    def workflow_finished(self, data: dict[str, Any]) -> Event:
        return self._workflow_event("workflow_finished", data)

    def _node_data(self, execution: NodeExecution) -> dict[str, Any]:
        spec = execution.spec
        return {
            "id": execution.id,
            "node_id": spec.id,
            "node_type": spec.type,
            "title": spec.title,
            "index": execution.index,
            "predecessor_node_id": execution.predecessor_node_id,
            "inputs": plain(execution.inputs),
            "inputs_truncated": False,
            "created_at": int(execution.started),
            "extras": {},
            "iteration_id": execution.scope.iteration_id,
            "loop_id": execution.scope.loop_id,
        }

    def node_started(self, execution: NodeExecution) -> Event:
        data = self._node_data(execution)
        if execution.spec.type == "agent":  # Dify names the node's strategy (no icon here)
            name = execution.spec.data.get("agent_strategy_name")
            data["agent_strategy"] = {"name": str(name or ""), "icon": None}
        return self._workflow_event("node_started", data)

    def node_finished(self, execution: NodeExecution, event: str = "node_finished") -> Event:
        data = self._node_data(execution)
        data.update(
            process_data=plain(execution.process_data),
            process_data_truncated=False,
            outputs=plain(execution.outputs),
            outputs_truncated=False,
            status=execution.status,
            error=execution.error,
            elapsed_time=execution.elapsed,
            execution_metadata=execution.metadata,
            finished_at=int(execution.finished or time.time()),
            files=output_files(execution.outputs),
        )
        if event == "node_retry":
            data["retry_index"] = execution.retry_index
        return self._workflow_event(event, data)

    def container_event(self, event: str, data: dict[str, Any]) -> Event:
        """iteration_* and loop_* events (their data is built by the container node)."""
        return self._workflow_event(event, data)

    def human_input_required(self, reason: dict[str, Any]) -> Event:
        """A form the run waits for (Dify's HumanInputRequiredResponse)."""
        data = {k: v for k, v in reason.items() if k != "TYPE"}
        return self._workflow_event("human_input_required", data)

    def workflow_paused(self, data: dict[str, Any]) -> Event:
        """The run waits and this stream ends (Dify's WorkflowPauseStreamResponse)."""
        return self._workflow_event("workflow_paused", data)

    def agent_log(self, data: dict[str, Any]) -> Event:
        """An agent node's log (Dify's AgentLogStreamResponse): `data` under the stream's
        envelope; advanced-chat envelopes carry no `workflow_run_id` for it."""
        payload = self.envelope("agent_log")
        payload["data"] = scrub(data, self.secrets) if self.secrets else data
        return payload

    def text(self, text: str, selector: list[str]) -> Event:
        """Streamed answer text: `message` in advanced-chat, `text_chunk` in workflows."""
        if self.secrets:
            text = scrub(text, self.secrets)
        if self.chat is None:
            payload: Event = {"event": "text_chunk", "workflow_run_id": self.workflow_run_id}
            payload["task_id"] = self.task_id
            payload["data"] = {"text": text, "from_variable_selector": selector}
            return payload
        payload = self.envelope("message")
        payload["id"] = self.chat.message_id
        payload["answer"] = text
        payload["from_variable_selector"] = selector
        return payload
