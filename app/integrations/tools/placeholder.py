"""The dry-run stand-in for a tool the operator has not configured: it answers text and JSON
saying so, marked `placeholder=True`, so an export can be tried end to end offline and
nobody mistakes the answer for the tool's."""

from typing import Any

from app.integrations.tools.base import ToolCall, ToolOutput, ToolRef, ToolSpec

MARK = "kiln_placeholder"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)


class PlaceholderTool:
    """Answers every call with a marked placeholder (`tools.dry_run`)."""

    def __init__(self, ref: ToolRef, reason: str) -> None:
        self.ref = ref
        self.reason = reason
        self.spec = ToolSpec(
            ref=ref,
            label=ref.tool_name,
            description=f"Placeholder for {ref.describe()} (not configured; dry run).",
        )

    async def invoke(self, arguments: dict[str, Any], call: ToolCall) -> ToolOutput:
        name = f"{self.ref.provider}/{self.ref.tool_name}"
        return ToolOutput(
            text=f"[dry run] placeholder answer of {self.ref.provider_type} tool {name}: "
            "the tool is not configured, so it did not run.",
            json=[
                {
                    MARK: True,
                    "provider_type": self.ref.provider_type,
                    "provider": self.ref.provider,
                    "tool": self.ref.tool_name,
                    "arguments": _jsonable(arguments),
                    "reason": self.reason,
                }
            ],
            placeholder=True,
        )
