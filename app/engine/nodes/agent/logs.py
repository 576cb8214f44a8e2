"""An agent node's run as Dify's agent strategy plugin reports it: `agent_log` events (a
`ROUND n` log per round, under it the model's `<model> Thought` log and a `CALL <tool>` log
per tool call; each sent when it starts and again when it finishes, with the same id), the
answer text streamed as the node's `text`, and the files tools made."""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.engine.agents.steps import AgentListener, Outcome, PlannedCall, Step
from app.engine.agents.strategy import Kind
from app.engine.agents.toolkit import Toolkit, ToolResult
from app.engine.nodes.tool.files import SaveFile, run_files
from app.engine.variables.values import FileValue

START, SUCCESS, ERROR = "start", "success", "error"


@dataclass(slots=True)
class AgentLog:
    id: str
    label: str
    parent_id: str | None
    status: str = START
    error: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def event_data(self, node_id: str, execution_id: str) -> dict[str, Any]:
        """The `agent_log` event's data (Dify's AgentLogStreamResponse.Data)."""
        return {
            "node_execution_id": execution_id,
            "id": self.id,
            "label": self.label,
            "parent_id": self.parent_id,
            "error": self.error,
            "status": self.status,
            "data": self.data,
            "metadata": self.metadata,
            "node_id": node_id,
        }

    def output(self, node_id: str) -> dict[str, Any]:
        """The log as the node's `json` output and execution metadata keep it."""
        return {
            "id": self.id,
            "parent_id": self.parent_id,
            "error": self.error,
            "status": self.status,
            "data": self.data,
            "label": self.label,
            "metadata": self.metadata,
            "node_id": node_id,
        }


def _usage_metadata(step: Step) -> dict[str, Any]:
    usage = step.reply.usage() if step.reply is not None else None
    return {
        "total_price": usage["total_price"] if usage else 0,
        "currency": usage["currency"] if usage else "",
        "total_tokens": usage["total_tokens"] if usage else 0,
    }


class NodeListener(AgentListener):
    def __init__(
        self,
        kind: Kind,
        model_name: str,
        provider: str,
        toolkit: Toolkit,
        rounds: int,
        emit: Callable[[AgentLog], None],
        stream: Callable[[str], None],
        save_file: SaveFile | None,
    ) -> None:
        self._kind, self._model, self._provider = kind, model_name, provider
        self._toolkit, self._rounds = toolkit, rounds
        self._emit_log, self._stream, self._save_file = emit, stream, save_file
        self.logs: list[AgentLog] = []
        self.said: list[str] = []  # the node's `text`, as streamed
        self.files: list[FileValue] = []  # what tools made
        self.notes: list[str] = []  # files that could not be kept
        self.placeholder = False  # a tool answered a dry-run placeholder
        self._round: AgentLog | None = None
        self._thought: AgentLog | None = None
        self._calls: dict[str, AgentLog] = {}
        self._started: dict[str, float] = {}

    # -- logs --------------------------------------------------------------------------
    def _open(self, label: str, parent: AgentLog | None, metadata: dict[str, Any]) -> AgentLog:
        log = AgentLog(str(uuid.uuid4()), label, parent.id if parent else None)
        log.metadata = self._with_icon(metadata)
        self._started[log.id] = time.perf_counter()
        self.logs.append(log)
        self._emit_log(log)
        return log

    def _close(
        self, log: AgentLog, data: dict[str, Any], metadata: dict[str, Any], error: str | None
    ) -> None:
        started = self._started.get(log.id, time.perf_counter())
        finished = time.perf_counter()
        log.status = ERROR if error else SUCCESS
        log.error = error
        log.data = data
        timing = {"finished_at": finished, "elapsed_time": finished - started}
        log.metadata = self._with_icon({"started_at": started, **metadata, **timing})
        self._emit_log(log)

    @staticmethod
    def _with_icon(metadata: dict[str, Any]) -> dict[str, Any]:
        # Dify adds the provider's icons to a log that names a provider; Kiln has none.
        if metadata.get("provider"):
            return {**metadata, "icon": None, "icon_dark": None}
        return metadata

    def _say(self, text: str) -> None:
        if text:
            self.said.append(text)
            self._stream(text)

    # -- hooks -------------------------------------------------------------------------
    def round_started(self, step: Step) -> None:
        self._calls = {}
        self._round = self._open(f"ROUND {step.index}", None, {"started_at": time.perf_counter()})
        self._thought = self._open(
            f"{self._model} Thought",
            self._round,
            {"started_at": time.perf_counter(), "provider": self._provider},
        )

    def text(self, step: Step, delta: str) -> None:
        # Function calling streams the model's text unless the round is calling tools
        # (the last round always); ReAct streams only its final answer, at the end.
        if self._kind == "function_calling" and (not step.calling or step.last):
            self._say(delta)

    def model_finished(self, step: Step) -> None:
        assert self._thought is not None
        if self._kind == "function_calling":
            data: dict[str, Any] = {
                "output": step.response,
                "tool_name": ";".join(call.name for call in step.calls),
                "tool_input": [{"name": c.name, "args": c.arguments} for c in step.calls],
            }
        else:
            action = step.action.to_dict() if step.action is not None else {"action": step.response}
            data = {"thought": step.thought, **action}
        metadata = {"provider": self._provider, **_usage_metadata(step)}
        self._close(self._thought, data, metadata, None)

    def tool_started(self, step: Step, call: PlannedCall) -> None:
        tool = self._toolkit.find(call.name)
        provider = tool.ref.provider if tool is not None else ""
        self._calls[call.id] = self._open(
            f"CALL {call.name}",
            self._round,
            {"started_at": time.perf_counter(), "provider": provider},
        )

    async def tool_finished(self, step: Step, call: PlannedCall, result: ToolResult) -> None:
        log = self._calls.get(call.id)
        if result.output is not None:
            self.placeholder = self.placeholder or result.output.placeholder
            files, notes = await run_files(result.output.files, self._save_file)
            self.files += files
            self.notes += notes
        if log is None:
            return
        tool = self._toolkit.find(call.name)
        provider = tool.ref.provider if tool is not None else ""
        if self._kind == "function_calling":
            response: dict[str, Any] = {
                "tool_call_id": call.id,
                "tool_call_name": call.name,
                "tool_call_input": result.arguments,
                "tool_response": result.observation,
            }
            data: dict[str, Any] = {"output": response}
        else:
            data = {
                "tool_name": call.name,
                "tool_call_args": result.arguments,
                "output": result.observation,
            }
        self._close(log, data, {"provider": provider}, None)

    def round_finished(self, step: Step) -> None:
        if self._kind == "function_calling" and step.calls:
            self._say("\n")  # the plugin's blank line after a round of tool calls
        assert self._round is not None
        if self._kind == "function_calling":
            data: dict[str, Any] = {
                "output": {
                    "llm_response": step.response,
                    "tool_responses": [
                        {
                            "tool_call_id": call.id,
                            "tool_call_name": call.name,
                            "tool_response": result.observation,
                        }
                        for call, result in zip(step.calls, step.results, strict=False)
                    ],
                }
            }
        else:
            data = {
                "action_name": step.action.name if step.action else "",
                "action_input": step.action.input if step.action else "",
                "thought": step.thought,
                "observation": step.observation,
            }
        self._close(self._round, data, _usage_metadata(step), None)
        if self._kind == "function_calling" and step.results and self._rounds == 1:
            for result in step.results:  # one round only: the tools' answers are the text
                self._say(result.observation)

    def finish(self, outcome: Outcome) -> None:
        if self._kind == "react":
            self._say(outcome.answer)

    def outputs(self, node_id: str) -> list[dict[str, Any]]:
        return [log.output(node_id) for log in self.logs]
