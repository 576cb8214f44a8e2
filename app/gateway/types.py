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


@dataclass(slots=True)
class UsageCount:
    """Token counts reported by the provider at the end of a stream."""

    prompt_tokens: int
    completion_tokens: int


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
