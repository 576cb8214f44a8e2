"""What one agent run is made of, as its listener sees it: rounds (a model call and the
tool calls it asked for), the text it streams, and the outcome."""

import time
from dataclasses import dataclass, field
from typing import Any

from app.engine.agents.model import Reply, UsageTotal
from app.engine.agents.toolkit import ToolResult


@dataclass(slots=True)
class PlannedCall:
    """A tool call the model asked for."""

    id: str
    name: str
    arguments: Any  # a dict, or the model's text when it was not a JSON object


@dataclass(slots=True)
class Action:
    """A ReAct action: a tool name (or "Final Answer") and its input."""

    name: str
    input: Any

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.name, "action_input": self.input}

    @property
    def is_final_answer(self) -> bool:
        return self.name.lower() == "final answer"


@dataclass(slots=True)
class Step:
    """One round: the model's reply and the tools it called."""

    index: int  # 1-based
    last: bool  # the run's last allowed round
    started: float = field(default_factory=time.perf_counter)
    response: str = ""  # the model's text (ReAct: thought text and actions, as Dify keeps it)
    thought: str = ""  # ReAct: the text outside actions (function calling: the response)
    calls: list[PlannedCall] = field(default_factory=list)
    action: Action | None = None  # ReAct
    action_str: str = ""  # ReAct: the action as JSON, as the scratchpad shows it
    observation: str = ""  # ReAct
    messages: list[dict[str, Any]] = field(default_factory=list)  # the prompt sent
    reply: Reply | None = None
    results: list[ToolResult] = field(default_factory=list)
    calling: bool = False  # a tool call has arrived in this round's stream

    @property
    def is_final(self) -> bool:
        """Dify's AgentScratchpadUnit.is_final: no action, or one naming a final answer."""
        if self.action is None:
            return True
        name = self.action.name.lower()
        return "final" in name and "answer" in name

    def scratchpad(self) -> str:
        """The round as the next ReAct prompt shows it."""
        if self.is_final:
            return f"Final Answer: {self.response}"
        text = f"Thought: {self.thought}\n\n"
        if self.action_str:
            text += f"Action: {self.action_str}\n\n"
        if self.observation:
            text += f"Observation: {self.observation}\n\n"
        return text


@dataclass(slots=True)
class Outcome:
    answer: str  # the final answer (what a classic message stores)
    usage: UsageTotal
    steps: list[Step]
    started: float

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started


class AgentListener:
    """Hooks a caller overrides to turn a run into events (no-ops by default)."""

    def round_started(self, step: Step) -> None:
        return None

    def model_streaming(self, step: Step) -> None:
        """The model's first chunk of this round arrived."""
        return None

    def text(self, step: Step, delta: str) -> None:
        """Text of the round as it streams (function calling: the model's text; ReAct:
        its thought, actions left out)."""
        return None

    def model_finished(self, step: Step) -> None:
        return None

    def tool_started(self, step: Step, call: PlannedCall) -> None:
        return None

    async def tool_finished(self, step: Step, call: PlannedCall, result: ToolResult) -> None:
        """May store what the tool made (files) before the run goes on."""
        return None

    def round_finished(self, step: Step) -> None:
        return None
