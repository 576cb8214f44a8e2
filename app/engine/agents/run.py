"""Everything one agent run starts from, whichever strategy runs it."""

from dataclasses import dataclass, field
from typing import Any

from app.engine.agents.model import AgentModel
from app.engine.agents.policy import AgentPolicy
from app.engine.agents.toolkit import Toolkit
from app.gateway.gateway import ModelGateway


@dataclass(slots=True)
class AgentRun:
    gateway: ModelGateway
    model: AgentModel
    toolkit: Toolkit
    policy: AgentPolicy
    query: str
    instruction: str = ""  # the system prompt (ReAct: the template's `{{instruction}}`)
    # Earlier turns as chat messages (assistant messages may carry `tool_calls`, followed
    # by their `tool` messages, as Dify rebuilds an agent conversation's history).
    history: list[dict[str, Any]] = field(default_factory=list)
    query_parts: list[dict[str, Any]] = field(default_factory=list)  # request images
    react_prompt: str | None = None  # a classic app's own ReAct `first_prompt`


def user_message(text: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    if not parts:
        return {"role": "user", "content": text}
    return {"role": "user", "content": [{"type": "text", "text": text}, *parts]}


def without_images(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """After the first round Dify sends user messages as text, files as `[image]` or
    `[file]` (models that take tools and vision together only do so in the first)."""
    cleared: list[dict[str, Any]] = []
    for message in messages:
        content = message.get("content")
        if message.get("role") == "user" and isinstance(content, list):
            pieces = []
            for part in content:
                if not isinstance(part, dict):
                    continue
                kind = part.get("type")
                if kind == "text":
                    pieces.append(str(part.get("text") or ""))
                else:
                    pieces.append("[image]" if kind == "image_url" else "[file]")
            message = {**message, "content": "\n".join(pieces)}
        cleared.append(message)
    return cleared
