"""An LLM node's prompt, assembled as Dify's LLM node does.

Chat templates: each message rendered (basic edition: `{{#context#}}` replaced by the
context, then `{{#node.var#}}` with Dify's text rendering; jinja2 edition: the sandbox
renders `jinja2_text` with `prompt_config.jinja2_variables`); files a message references
follow it as a message of their own; then the conversation history (memory); then the
query as the last user message. Completion templates: one user text, history text in
place of `#histories#` (or before the text). Vision files go before the text of the last
message when it is a user message, else in a user message of their own. Messages that
render empty are dropped; none left is Dify's "No prompt found"."""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.engine.nodes.base import NodeConfigError, NodeContext, NodeError
from app.engine.nodes.llm.entities import MemorySettings, ModelSettings, parse_selector
from app.engine.nodes.llm.memory import has_memory, history_messages, history_text, rest_tokens
from app.engine.variables.pool import MISSING, VariablePool
from app.engine.variables.templates import render, selectors_in
from app.engine.variables.values import FileValue, plain, to_text

CONTEXT_PLACEHOLDER = "{{#context#}}"
ROLES = ("system", "user", "assistant")
PROMPT_FILE_TYPES = ("image", "video", "audio", "document")
NO_PROMPT = (
    "No prompt found in the LLM configuration. "
    "Please ensure a prompt is properly configured before proceeding."
)


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    role: str
    text: str
    # edition_type jinja2: `text` is the `jinja2_text`, rendered by the sandbox (Dify
    # still checks it for `{{#…#}}` selectors, which rarely appear in one)
    jinja2: bool = False


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    messages: tuple[MessageTemplate, ...]  # chat templates
    completion: MessageTemplate | None = None  # a completion template instead
    jinja2_variables: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(slots=True)
class Message:
    role: str
    text: str = ""
    parts: list[dict[str, Any]] = field(default_factory=list)  # file parts, before the text
    history: dict[str, Any] | None = None  # a memory message, sent as memory built it

    @property
    def empty(self) -> bool:
        if self.history is not None:
            return not self.history.get("content")
        return not self.text and not self.parts

    def to_openai(self) -> dict[str, Any]:
        if self.history is not None:
            return self.history
        if not self.parts:
            return {"role": self.role, "content": self.text}
        content = [*self.parts]
        if self.text:
            content.append({"type": "text", "text": self.text})
        return {"role": self.role, "content": content}


def _message_template(raw: Any, where: str, default_role: str = "user") -> MessageTemplate:
    if not isinstance(raw, dict):
        raise NodeConfigError(f"{where} is not a prompt message")
    role = str(raw.get("role") or default_role)
    if role not in ROLES:
        raise NodeConfigError(f"{where} has an unknown role {role!r}")
    if raw.get("edition_type") == "jinja2":
        return MessageTemplate(role, str(raw.get("jinja2_text") or ""), jinja2=True)
    return MessageTemplate(role, str(raw.get("text") or ""))


def parse_prompt(data: dict[str, Any]) -> PromptTemplate:
    raw = data.get("prompt_template")
    variables: list[tuple[str, tuple[str, ...]]] = []
    config = data.get("prompt_config")
    for entry in (config.get("jinja2_variables") if isinstance(config, dict) else None) or []:
        if isinstance(entry, dict) and entry.get("variable"):
            selector = parse_selector(entry.get("value_selector"), "a jinja2 variable")
            variables.append((str(entry["variable"]), selector))
    if isinstance(raw, dict):
        completion = _message_template({**raw, "role": "user"}, "the completion prompt")
        return PromptTemplate((), completion, tuple(variables))
    if isinstance(raw, list):
        messages = tuple(
            _message_template(item, f"prompt message {index + 1}") for index, item in enumerate(raw)
        )
        return PromptTemplate(messages, None, tuple(variables))
    raise NodeConfigError("the node has no prompt template")


def check_variables(
    template: PromptTemplate, memory: MemorySettings | None, pool: VariablePool
) -> dict[str, Any]:
    """Every `{{#…#}}` the prompt (and the memory query) names must exist, and so must
    every jinja2 variable: Dify fails the node otherwise. Returns the node's inputs."""
    inputs: dict[str, Any] = {}
    texts = [m.text for m in template.messages]
    if template.completion is not None:
        texts.append(template.completion.text)
    for text in texts:
        for selector in selectors_in(text):
            inputs[_key(selector)] = _required(pool, selector, _key(selector))
    if memory is not None and memory.query_template:
        for selector in selectors_in(memory.query_template):
            value = _required(pool, selector, _key(selector))
            if pool.lookup(selector) is not None:
                inputs[_key(selector)] = value
    for name, selector in template.jinja2_variables:
        inputs[name] = _jinja_input_text(_required(pool, selector, name))
    return inputs


def _key(selector: tuple[str, ...]) -> str:
    return "#" + ".".join(selector) + "#"


def _required(pool: VariablePool, selector: Sequence[str], name: str) -> Any:
    value = pool.lookup(selector)
    if value is MISSING:
        raise NodeError(f"Variable {name} not found", "VariableNotFoundError")
    return "" if value is None else plain(value)


def _jinja_input_text(value: Any) -> str:
    """How Dify shows a jinja2 variable among the node's inputs."""
    if isinstance(value, list):
        return "\n".join(_mapping_text(v) if isinstance(v, dict) else str(v) for v in value).strip()
    if isinstance(value, dict):
        return _mapping_text(value)
    return to_text(value)


def _mapping_text(value: dict[str, Any]) -> str:
    metadata = value.get("metadata")
    if isinstance(metadata, dict) and "_source" in metadata and "content" in value:
        return str(value["content"])
    return json.dumps(value, ensure_ascii=False, default=str)


def context_text(value: Any) -> str | None:
    """A context variable's text: a string as is; an array of strings and retrieval
    results (`content`, with `summary` first when set) one per line."""
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        return None
    lines: list[str] = []
    for item in value:
        if isinstance(item, str):
            lines.append(item + "\n")
            continue
        if not isinstance(item, dict) or "content" not in item:
            raise NodeError(f"Invalid context structure: {item}", "InvalidContextStructureError")
        if item.get("summary"):
            lines.append(f"{item['summary']}\n")
        lines.append(f"{item['content']}\n")
    return "".join(lines).strip()


def files_of(value: Any) -> list[FileValue]:
    """Prompt-ready files among a value (a file, or a list holding files)."""
    items = value if isinstance(value, list) else [value]
    return [v for v in items if isinstance(v, FileValue) and v.type in PROMPT_FILE_TYPES]


async def file_parts(ctx: NodeContext, files: list[FileValue], detail: str) -> list[dict[str, Any]]:
    if not files:
        return []
    make_parts = ctx.workflow.services.file_parts
    if make_parts is None:
        raise NodeError(
            "Files cannot be sent to the model: this run has no file service",
            "InvalidVariableTypeError",
        )
    return await make_parts(files, detail)


class PromptBuilder:
    """Builds one call's messages; `run` is the only entry point."""

    def __init__(
        self,
        ctx: NodeContext,
        template: PromptTemplate,
        model: ModelSettings,
        memory: MemorySettings | None,
        detail: str,
    ) -> None:
        self.ctx = ctx
        self.pool = ctx.pool
        self.template = template
        self.model = model
        self.memory = memory
        self.detail = detail

    async def run(
        self, context: str, query: str | None, vision_files: list[FileValue]
    ) -> list[dict[str, Any]]:
        if self.template.completion is not None:
            messages = [await self._completion(context, query)]
        else:
            messages = await self._chat(context, query)
        parts = await file_parts(self.ctx, vision_files, self.detail)
        if parts:
            last = messages[-1] if messages else None
            if last is not None and last.role == "user" and last.history is None:
                last.parts[:0] = parts
            else:
                messages.append(Message("user", "", parts))
        kept = [m.to_openai() for m in messages if not m.empty]
        if not kept:
            raise NodeError(NO_PROMPT, "NoPromptFoundError")
        return kept

    async def _text(self, template: MessageTemplate, context: str) -> str:
        if template.jinja2:
            return await self._jinja(template.text)
        return render(template.text.replace(CONTEXT_PLACEHOLDER, context), self.pool)

    async def _render(self, template: MessageTemplate, context: str) -> list[Message]:
        """A chat message, then a message of the files it references (same role)."""
        rendered = [Message(template.role, await self._text(template, context))]
        if template.jinja2:
            return rendered
        text = template.text.replace(CONTEXT_PLACEHOLDER, context)
        files: list[FileValue] = []
        for selector in selectors_in(text):
            files += files_of(self.pool.lookup(selector))
        if files:
            rendered.append(
                Message(template.role, "", await file_parts(self.ctx, files, self.detail))
            )
        return rendered

    async def _jinja(self, template: str) -> str:
        if not template:
            return ""
        sandbox = self.ctx.workflow.services.sandbox
        if sandbox is None:
            raise NodeError(
                "Jinja2 prompts need the code sandbox, which this run does not have",
                "TemplateRenderError",
            )
        variables: dict[str, Any] = {}
        for name, selector in self.template.jinja2_variables:
            value = self.pool.lookup(selector)
            variables[name] = "" if value is MISSING else plain(value)
        try:
            return await sandbox.render_template(template, variables)
        except NodeError:
            raise
        except Exception as exc:  # the sandbox's own failure (its message is the error)
            raise NodeError(str(exc) or type(exc).__name__, "TemplateRenderError") from exc

    def _history(self) -> list[dict[str, Any]]:
        if self.memory is None or not has_memory(self.pool):
            return []
        budget = rest_tokens(self.model.provider, self.model.name, self.model.params)
        return history_messages(self.ctx.workflow.history, self.memory.message_limit, budget)

    async def _chat(self, context: str, query: str | None) -> list[Message]:
        messages: list[Message] = []
        for template in self.template.messages:
            messages += await self._render(template, context)
        for item in self._history():
            # Kept as memory built it (an earlier query's files follow its text).
            messages.append(Message(item["role"], history=item))
        if query:
            messages += await self._render(MessageTemplate("user", query), "")
        return messages

    async def _completion(self, context: str, query: str | None) -> Message:
        assert self.template.completion is not None
        text = await self._text(self.template.completion, context)
        histories = ""
        if self.memory is not None and has_memory(self.pool):
            if self.memory.role_prefix is None:
                raise NodeError(
                    "Memory role prefix is required for completion model.",
                    "MemoryRolePrefixRequiredError",
                )
            histories = history_text(self._history(), *self.memory.role_prefix)
        # Dify's quirk: the bare `#histories#` is replaced, so `{{#histories#}}` keeps its
        # outer braces; without it the history goes first, on its own line.
        text = (
            text.replace("#histories#", histories)
            if "#histories#" in text
            else histories + "\n" + text
        )
        if query:
            text = text.replace("#sys.query#", query)
        return Message("user", text)
