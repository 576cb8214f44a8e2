"""One step of an agent-chat answer, as Dify records it in `message_agent_thoughts` and
streams it in `agent_thought` events. Kiln runs no agent tools, so an answer is one step
whose thought is the model's reply (Dify's function-call runner without tools)."""

import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class AgentThought:
    position: int
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    thought: str = ""
    tool: str = ""  # tool names joined by ";"
    tool_labels: dict[str, Any] = field(default_factory=dict)
    tool_input: str = ""
    observation: str = ""
    message_files: list[str] = field(default_factory=list)
    tokens: int = 0
