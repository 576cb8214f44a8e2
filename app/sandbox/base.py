"""The sandbox interface the engine uses: `CodeSandbox`, and `build_sandbox(settings)`
choosing Kiln's local confined pool or a Dify `dify-sandbox` server."""

from typing import Any, Protocol

from app.core.config import Settings
from app.sandbox.errors import (
    SandboxError,
    SandboxOutputTooLargeError,
    SandboxTimeoutError,
    SandboxUnavailableError,
    SandboxUnsupportedError,
)

__all__ = [
    "CodeSandbox",
    "SandboxError",
    "SandboxOutputTooLargeError",
    "SandboxTimeoutError",
    "SandboxUnavailableError",
    "SandboxUnsupportedError",
    "build_sandbox",
]


class CodeSandbox(Protocol):
    async def run_code(self, language: str, code: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """Run a code node: `language` is "python3" or "javascript"; Python calls
        `main(**inputs)`, JavaScript `main(inputs)`. Returns the result dict (not yet
        checked against the node's declared outputs). Raises SandboxError."""
        ...

    async def render_template(self, template: str, variables: dict[str, Any]) -> str:
        """Render a Jinja2 template (sandboxed environment, no autoescape,
        `render(**variables)`), at most `template_transform_max_length` characters.
        Raises SandboxError."""
        ...

    async def aclose(self) -> None:
        """Stop the workers (local) or close the HTTP client (remote)."""
        ...


def build_sandbox(settings: Settings) -> CodeSandbox:
    """A remote sandbox when `code_execution_endpoint` is set, else the local pool."""
    if settings.code_execution_endpoint:
        from app.sandbox.remote import RemoteSandbox

        return RemoteSandbox(settings)
    from app.sandbox.pool import LocalSandbox

    return LocalSandbox(settings)
