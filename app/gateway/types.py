"""What callers hand the model gateway and what it streams back."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class ModelRequest:
    provider: str  # Dify provider id, plain or plugin-qualified
    model: str
    messages: list[dict[str, Any]]  # OpenAI chat format
    params: dict[str, Any] = field(default_factory=dict)
    stop: list[str] = field(default_factory=list)
    mode: str = "chat"  # the model's mode in the DSL: chat | completion
    # Tools the model may call (OpenAI format: `{"type": "function", "function": {name,
    # description, parameters}}`); chat models only. The stream then yields ToolCall items.
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_choice: str | dict[str, Any] | None = None  # OpenAI `tool_choice`, when set
    # OpenAI `response_format` (`{"type": "json_schema", "json_schema": {...}}` or
    # `{"type": "json_object"}`), when the caller wants JSON back.
    response_format: dict[str, Any] | None = None


@dataclass(slots=True)
class UsageCount:
    """Token counts reported by the provider at the end of a stream."""

    prompt_tokens: int
    completion_tokens: int


@dataclass(slots=True)
class ToolCall:
    """One complete tool call of the answer (yielded once the stream has it whole)."""

    id: str
    name: str
    arguments: str  # the JSON text the model wrote (not checked here)


@dataclass(slots=True)
class FinishReason:
    """Why the model stopped (`stop`, `length`, `tool_calls`, …), as the provider says."""

    reason: str


# What a model stream yields: text deltas, tool calls, the finish reason, token counts.
StreamItem = str | UsageCount | ToolCall | FinishReason


class GatewayError(Exception):
    """Base of every model-call failure; its text is safe to show a client."""


class ProviderNotInitialized(GatewayError):
    pass


class UpstreamRateLimited(GatewayError):
    pass


class UpstreamError(GatewayError):
    pass


class UpstreamAuthFailed(UpstreamError):
    """The provider refused the credentials (401/403): Dify tells the client only
    "Incorrect API key provided"."""
