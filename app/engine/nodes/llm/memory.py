"""Conversation memory for model-calling nodes, as Dify's TokenBufferMemory gives it: the
newest turns (a window, else up to 500), each a user message (query, then its files) and
an assistant message, oldest first, trimmed from the oldest until they fit the token
budget; or the same as `prefix: text` lines for completion models and classifier prompts."""

from typing import Any

from app.engine.prompt import Turn
from app.engine.variables.pool import SYSTEM, VariablePool
from app.gateway.pricing import context_size
from app.gateway.tokens import count_message_tokens

MAX_TURNS = 500  # what TokenBufferMemory loads at most
DEFAULT_BUDGET = 2000  # rest tokens when the model's context size is unknown


def has_memory(pool: VariablePool) -> bool:
    """Dify builds memory only when the run belongs to a conversation (advanced-chat)."""
    return bool(pool.scope(SYSTEM).get("conversation_id"))


def rest_tokens(provider: str, model: str, params: dict[str, Any], used: int = 0) -> int:
    """The history budget: context size − max_tokens − tokens already used (≥ 0), or 2000
    when the context size is unknown."""
    size = context_size(provider, model)
    if not size:
        return DEFAULT_BUDGET
    max_tokens = params.get("max_tokens")
    reserved = int(max_tokens) if isinstance(max_tokens, int | float) else 0
    return max(size - reserved - used, 0)


def history_messages(history: list[Turn], limit: int | None, budget: int) -> list[dict[str, Any]]:
    turns = min(limit, MAX_TURNS) if limit and limit > 0 else MAX_TURNS
    messages: list[dict[str, Any]] = []
    for turn in history[-turns:]:
        content: Any = turn.query
        if turn.parts:
            content = [{"type": "text", "text": turn.query}, *turn.parts]
        messages.append({"role": "user", "content": content})
        messages.append({"role": "assistant", "content": turn.answer})
    while len(messages) > 1 and count_message_tokens(messages) > budget:
        messages.pop(0)
    return messages


def history_text(messages: list[dict[str, Any]], user_prefix: str, assistant_prefix: str) -> str:
    """`Human: …` / `Assistant: …` lines (an image part reads `[image]`)."""
    lines = []
    for message in messages:
        role = message.get("role")
        if role not in ("user", "assistant"):
            continue
        prefix = user_prefix if role == "user" else assistant_prefix
        content = message.get("content")
        if isinstance(content, list):
            pieces = []
            for part in content:
                if not isinstance(part, dict):
                    continue
                if part.get("type") == "text":
                    pieces.append(str(part.get("text") or ""))
                elif part.get("type") == "image_url":
                    pieces.append("[image]")
            content = "\n".join(pieces)
        lines.append(f"{prefix}: {content}")
    return "\n".join(lines)


def memory_text(
    history: list[Turn],
    limit: int | None,
    budget: int,
    prefixes: tuple[str, str] = ("Human", "Assistant"),
) -> str:
    return history_text(history_messages(history, limit, budget), *prefixes)
