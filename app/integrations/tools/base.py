"""What every tool is, whatever provides it (builtin, OpenAPI, MCP, another workflow):
a spec (name, description, parameters) and an `invoke` that returns Dify's tool output
pieces (text, files, JSON, variables). Tools know no workflow: files come back as bytes or
URLs, and the caller turns them into the run's files."""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

Entry = TypeVar("Entry")

ProviderType = Literal["builtin", "api", "mcp", "workflow", "plugin", "app", "dataset-retrieval"]


@dataclass(frozen=True, slots=True)
class ToolRef:
    """A tool as a DSL names it (tool node data, agent-chat `agent_mode.tools` items)."""

    provider_type: str
    provider_id: str
    tool_name: str
    provider_name: str = ""

    @property
    def provider(self) -> str:
        """The provider's own name: plugin tools export as `author/plugin/provider`."""
        name = self.provider_name or self.provider_id
        return name.rsplit("/", 1)[-1] if "/" in name else name

    def describe(self) -> str:
        return f"{self.provider_type} tool {self.provider}/{self.tool_name}"


@dataclass(frozen=True, slots=True)
class ToolParameter:
    name: str
    type: str = "string"  # string | number | boolean | select | file | files | object | array
    required: bool = False
    description: str = ""
    form: Literal["llm", "form"] = "llm"  # `llm`: an agent fills it; `form`: configured
    options: tuple[str, ...] = ()
    default: Any = None


@dataclass(frozen=True, slots=True)
class ToolSpec:
    ref: ToolRef
    label: str
    description: str
    parameters: tuple[ToolParameter, ...] = ()

    def json_schema(self) -> dict[str, Any]:
        """The parameters an agent's model fills, as a JSON schema (function calling)."""
        kinds = {"number": "number", "boolean": "boolean", "object": "object", "array": "array"}
        properties: dict[str, Any] = {}
        required: list[str] = []
        for p in self.parameters:
            if p.form != "llm":
                continue
            prop: dict[str, Any] = {
                "type": kinds.get(p.type, "string"),
                "description": p.description,
            }
            if p.options:
                prop["enum"] = list(p.options)
            properties[p.name] = prop
            if p.required:
                required.append(p.name)
        return {"type": "object", "properties": properties, "required": required}


@dataclass(frozen=True, slots=True)
class ToolFile:
    """A file a tool made (bytes) or points at (url)."""

    mime_type: str
    filename: str = ""
    content: bytes | None = None
    url: str | None = None


@dataclass(slots=True)
class ToolOutput:
    """Dify's tool node outputs: `text` (text and link messages joined by newlines),
    `files`, `json` (the JSON messages), and variables from variable messages."""

    text: str = ""
    files: list[ToolFile] = field(default_factory=list)
    json: list[Any] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    placeholder: bool = False  # a dry-run answer of an unconfigured tool


class ToolError(Exception):
    """The tool failed; the message is what the node (or the agent) reports."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ToolNotConfigured(ToolError):
    """The operator has not configured this tool; the message names the provider, the tool
    and the setting that would enable it."""


@dataclass(slots=True)
class ToolCall:
    """What a tool may know of the call: who asks, and how deep in workflow-as-tool calls."""

    user_id: str
    app_id: str
    depth: int = 0  # workflow-as-tool nesting (Dify's WORKFLOW_CALL_MAX_DEPTH)
    timeout: float = 60.0


class Tool(Protocol):
    spec: ToolSpec

    async def invoke(self, arguments: dict[str, Any], call: ToolCall) -> ToolOutput: ...


class ToolProvider(Protocol):
    """One source of tools (builtin, OpenAPI, MCP, workflows)."""

    provider_types: tuple[str, ...]

    async def find(self, ref: ToolRef) -> Tool | None:
        """The tool, or None when this provider does not know it; raises ToolNotConfigured
        when it knows it but lacks what the operator must give."""
        ...

    def check(self, ref: ToolRef) -> str | None:
        """Without I/O: why `ref` cannot run (for `kiln apps import`), or None."""
        ...


def configured_entry(table: Mapping[str, Entry], ref: ToolRef) -> tuple[str, Entry] | None:
    """An integrations-file entry for `ref`: by provider id, then by the provider's name
    as exported, then by its own name (a plugin's last path segment)."""
    for key in (ref.provider_id, ref.provider_name, ref.provider):
        if key and key in table:
            return key, table[key]
    return None


# Runs another imported workflow app as a tool (services provide it; the runtime only calls).
WorkflowInvoker = Callable[[str, dict[str, Any], ToolCall], Awaitable[ToolOutput]]
