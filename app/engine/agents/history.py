"""An agent-chat conversation's earlier turns as its agent reads them (Dify's
organize_agent_history): each query, then each stored thought as an assistant message
with the tool calls it made and a `tool` message per observation (a thought without a tool
is plain text; a turn without thoughts is its answer); trimmed from the oldest whole turn
until it fits the budget (AgentHistoryPromptTransform)."""

import json
import uuid
from dataclasses import dataclass
from typing import Any

from app.engine.prompt import Turn
from app.gateway.tokens import count_message_tokens


@dataclass(frozen=True, slots=True)
class ThoughtRecord:
    """The stored fields of an earlier answer's thought that its history needs."""

    thought: str
    tool: str
    tool_input: str
    observation: str


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _thought_messages(record: ThoughtRecord) -> list[dict[str, Any]]:
    tools = [name for name in record.tool.split(";") if name] if record.tool else []
    if not tools:
        return [{"role": "assistant", "content": record.thought}]
    inputs = _loads(record.tool_input)
    if not isinstance(inputs, dict):
        inputs = {tool: {} for tool in tools}
    responses = _loads(record.observation)
    if not isinstance(responses, dict):
        responses = dict.fromkeys(tools, record.observation)
    calls: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    for tool in tools:
        call_id = str(uuid.uuid4())
        calls.append(
            {
                "id": call_id,
                "type": "function",
                "function": {"name": tool, "arguments": json.dumps(inputs.get(tool, {}))},
            }
        )
        response = responses.get(tool, record.observation)
        answers.append(
            {
                "role": "tool",
                "tool_call_id": call_id,
                "name": tool,
                "content": response if isinstance(response, str) else json.dumps(response),
            }
        )
    return [{"role": "assistant", "content": record.thought, "tool_calls": calls}, *answers]


def agent_history(
    turns: list[Turn], thoughts: dict[str, list[ThoughtRecord]]
) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for turn in turns:
        content: Any = turn.query
        if turn.parts:
            content = [{"type": "text", "text": turn.query}, *turn.parts]
        messages.append({"role": "user", "content": content})
        records = thoughts.get(turn.message_id) or []
        if records:
            for record in records:
                messages.extend(_thought_messages(record))
        elif turn.answer:
            messages.append({"role": "assistant", "content": turn.answer})
    return messages


def fit_history(messages: list[dict[str, Any]], budget: int) -> list[dict[str, Any]]:
    """The newest whole turns (each starting at a user message) that fit `budget` tokens."""
    if count_message_tokens(messages) <= budget:
        return messages
    kept: list[dict[str, Any]] = []
    turn: list[dict[str, Any]] = []
    for message in reversed(messages):
        turn.insert(0, message)
        if message.get("role") != "user":
            continue
        if count_message_tokens([*turn, *kept]) > budget:
            break
        kept = [*turn, *kept]
        turn = []
    return kept
