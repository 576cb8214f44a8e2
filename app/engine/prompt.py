"""Classic prompt assembly (simple and advanced modes), as Dify builds it."""

from dataclasses import dataclass, field
from typing import Any

from app.engine.app_config import AppConfig
from app.engine.multimodal import attach_file_parts
from app.engine.template import render, template_values
from app.gateway.tokens import count_message_tokens, count_tokens

DEFAULT_HISTORY_BUDGET = 2000
# Stops Dify applies to completion-type models in simple mode.
SIMPLE_COMPLETION_STOPS = ["\nHuman:", "</histories>"]
_HISTORIES_BLOCK = (
    "Use the following conversation between Human and Assistant, inside <histories></histories>"
    " tags, as context.\n\n<histories>\n{{#histories#}}\n</histories>\n\n"
)
_CHAT_QUERY = "\n\nHuman: {{#query#}}\n\nAssistant: "
# Simple mode's context block (Dify's common_chat / common_completion `context_prompt`),
# first in the prompt whenever the app retrieved from datasets.
CONTEXT_PROMPT = (
    "Use the following context as your learned knowledge, inside <context></context> XML "
    "tags.\n\n<context>\n{{#context#}}\n</context>\n\nWhen answer to user:\n- If you "
    "don't know, just say that you don't know.\n- If you don't know when you are not sure, "
    "ask for clarification.\nAvoid mentioning that you obtained the information from the "
    "context.\nAnd answer according to the language of the user's question.\n\n"
)


@dataclass(slots=True)
class Turn:
    query: str
    answer: str
    message_id: str = ""
    parts: list[dict[str, Any]] = field(default_factory=list)  # the query's file parts


@dataclass(slots=True)
class Prompt:
    messages: list[dict[str, Any]]
    stop: list[str]


def _history_messages(history: list[Turn]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for turn in history:
        # An earlier query's files follow its text (Dify's memory order).
        content = [{"type": "text", "text": turn.query}, *turn.parts] if turn.parts else turn.query
        messages.append({"role": "user", "content": content})
        messages.append({"role": "assistant", "content": turn.answer})
    return messages


def _as_text(content: Any) -> str:
    if not isinstance(content, list):
        return str(content)
    pieces = [
        str(p.get("text", "")) if p.get("type") == "text" else "[image]"
        for p in content
        if isinstance(p, dict)
    ]
    return "\n".join(pieces).strip()


def _fit(messages: list[dict[str, Any]], budget: int) -> list[dict[str, Any]]:
    """Drop the oldest messages until the history fits (at least one is kept)."""
    messages = list(messages)
    while len(messages) > 1 and count_message_tokens(messages) > budget:
        messages.pop(0)
    return messages


def _history_text(history: list[Turn], prefixes: tuple[str, str], budget: int) -> str:
    lines = _fit(_history_messages(history), budget)
    user_prefix, assistant_prefix = prefixes
    return "\n".join(
        f"{user_prefix if m['role'] == 'user' else assistant_prefix}: {_as_text(m['content'])}"
        for m in lines
    )


def _budget(config: AppConfig, context_size: int | None, used_tokens: int) -> int:
    if not context_size:
        return DEFAULT_HISTORY_BUDGET
    max_tokens = config.model.params.get("max_tokens") or 0
    return max(context_size - int(max_tokens) - used_tokens, 0)


def _simple_head(config: AppConfig, values: dict[str, str], context: str | None) -> str:
    """The context block (when the app retrieved) and the pre-prompt, filled in."""
    template = CONTEXT_PROMPT if context is not None else ""
    if config.pre_prompt:
        template += config.pre_prompt + "\n"
    return render(template, {**values, "#context#": context or ""}) if template else ""


def _simple_chat_model(
    config: AppConfig,
    values: dict[str, str],
    query: str,
    history: list[Turn],
    ctx: int | None,
    context: str | None,
) -> Prompt:
    system = _simple_head(config, values, context)
    messages: list[dict[str, Any]] = []
    if system and query:
        messages.append({"role": "system", "content": system})
    tail = {"role": "user", "content": query or system}
    if history:
        used = count_message_tokens([*messages, tail])
        messages.extend(_fit(_history_messages(history), _budget(config, ctx, used)))
    messages.append(tail)
    return Prompt(messages, list(config.model.stop))


def _simple_completion_model(
    config: AppConfig,
    values: dict[str, str],
    query: str,
    history: list[Turn],
    ctx: int | None,
    context: str | None,
) -> Prompt:
    text = _simple_head(config, values, context)
    chat_app = config.mode != "completion"
    query_part = render(_CHAT_QUERY, {"#query#": query}) if chat_app else query
    if history and chat_app:
        budget = _budget(config, ctx, count_tokens(text + query_part))
        text += render(
            _HISTORIES_BLOCK,
            {"#histories#": _history_text(history, ("Human", "Assistant"), budget)},
        )
    stops = SIMPLE_COMPLETION_STOPS if chat_app else []
    return Prompt([{"role": "user", "content": text + query_part}], stops + config.model.stop)


def _advanced_chat_model(
    config: AppConfig,
    values: dict[str, str],
    query: str,
    history: list[Turn],
    ctx: int | None,
    context: str | None,
) -> Prompt:
    messages: list[dict[str, Any]] = []
    for item in config.chat_prompt:
        text = render(str(item.get("text") or ""), {**values, "#context#": context or ""})
        role = str(item.get("role") or "user")
        if role == "system" and not text:
            continue
        messages.append({"role": role, "content": text})
    tail = [{"role": "user", "content": query}] if query else []
    if history:
        used = count_message_tokens(messages + tail)
        messages.extend(_fit(_history_messages(history), _budget(config, ctx, used)))
    return Prompt(messages + tail, list(config.model.stop))


def _advanced_completion_model(
    config: AppConfig,
    values: dict[str, str],
    query: str,
    history: list[Turn],
    ctx: int | None,
    context: str | None,
) -> Prompt:
    base = {**values, "#context#": context or "", "#query#": query}
    without_history = render(config.completion_prompt, {**base, "#histories#": ""})
    budget = _budget(config, ctx, count_tokens(without_history))
    histories = _history_text(history, config.history_prefixes, budget) if history else ""
    text = render(config.completion_prompt, {**base, "#histories#": histories})
    return Prompt([{"role": "user", "content": text}], list(config.model.stop))


def build_prompt(
    config: AppConfig,
    inputs: dict[str, Any],
    query: str,
    history: list[Turn],
    context_size: int | None,
    file_parts: list[dict[str, Any]] | None = None,
    context: str | None = None,
) -> Prompt:
    """`context`: what dataset retrieval found (None: the app retrieves nothing)."""
    values = template_values(inputs)
    completion_model = config.model.mode == "completion"
    if config.prompt_type == "advanced":
        builder = _advanced_completion_model if completion_model else _advanced_chat_model
    else:
        builder = _simple_completion_model if completion_model else _simple_chat_model
    prompt = builder(config, values, query, history, context_size, context)
    # Request files (images) go before the text of the final user message, as Dify puts them.
    if file_parts:
        prompt.messages = attach_file_parts(prompt.messages, file_parts)
    return prompt
