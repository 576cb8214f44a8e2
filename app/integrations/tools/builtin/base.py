"""How a native builtin tool is declared: a provider (Dify's provider name, the credentials
it needs) with tools (Dify's tool name, label, description, parameters) whose handler turns
arguments into a ToolOutput. Handlers reach outside only through their BuiltinEnv: the
guarded HTTP client, the model gateway, the provider's credentials and a clock."""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from app.gateway.gateway import ModelGateway
from app.integrations.tools.base import ToolCall, ToolOutput, ToolParameter, ToolSpec
from app.integrations.tools.builtin.params import coerce
from app.net.http_node import FileField, HttpReply


class WebClient(Protocol):
    """Outbound HTTP through the SSRF guard (app/net/http_node.py GuardedHttpCaller)."""

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        params: list[tuple[str, str]],
        content: bytes | None,
        files: list[FileField] | None,
        data: dict[str, str] | None,
        timeouts: tuple[float, float, float],
        max_size: int,
        verify: bool,
    ) -> HttpReply: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class BuiltinEnv:
    http: WebClient | None = None
    gateway: ModelGateway | None = None
    credentials: Mapping[str, str] = field(default_factory=dict)
    clock: Callable[[], datetime] = utc_now  # aware; tests fix it
    fetch_timeout: float = 30.0
    fetch_max_bytes: int = 10 * 1024 * 1024


Handler = Callable[[dict[str, Any], BuiltinEnv, ToolCall], Awaitable[ToolOutput]]


@dataclass(frozen=True, slots=True)
class BuiltinToolDef:
    name: str
    label: str
    description: str
    parameters: tuple[ToolParameter, ...]
    run: Handler


@dataclass(frozen=True, slots=True)
class BuiltinProviderDef:
    name: str  # Dify's provider name (the last part of a plugin id)
    label: str
    tools: tuple[BuiltinToolDef, ...]
    required_credentials: tuple[str, ...] = ()  # keys of `tools.credentials.<name>`
    aliases: tuple[str, ...] = ()  # other provider names exports use for these tools

    def tool(self, name: str) -> BuiltinToolDef | None:
        return next((t for t in self.tools if t.name == name), None)


class BuiltinTool:
    """A builtin tool bound to its environment; arguments are cast to the declared
    parameter types (and defaults filled) as Dify does before the handler runs."""

    def __init__(self, spec: ToolSpec, definition: BuiltinToolDef, env: BuiltinEnv) -> None:
        self.spec = spec
        self.definition = definition
        self.env = env

    async def invoke(self, arguments: dict[str, Any], call: ToolCall) -> ToolOutput:
        return await self.definition.run(coerce(self.spec.parameters, arguments), self.env, call)


def param(
    name: str,
    type: str = "string",
    *,
    required: bool = False,
    description: str = "",
    form: str = "llm",
    options: tuple[str, ...] = (),
    default: Any = None,
) -> ToolParameter:
    """A parameter as Dify's tool YAML declares it (shorter to write)."""
    return ToolParameter(
        name=name,
        type=type,
        required=required,
        description=description,
        form="form" if form == "form" else "llm",
        options=options,
        default=default,
    )
