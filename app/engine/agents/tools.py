"""The tools an agent may call, as the model sees them (name, description, a JSON schema of
the parameters it fills) and as they are invoked (the configured values merged with the
model's arguments). Dify's rules: only `llm`-form parameters reach the model, file
parameters never do, `select` options become an enum, configured values are fixed."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.integrations.tools.base import Tool, ToolCall, ToolError, ToolOutput, ToolRef, ToolSpec

FILE_TYPES = frozenset({"file", "files", "system-files"})
_NORMAL_TYPES = {"number": "number", "boolean": "boolean", "array": "array", "object": "object"}


class ToolRunner(Protocol):
    """The tool runtime as agents use it (services provide it over the ToolBox)."""

    async def spec(self, ref: ToolRef) -> ToolSpec:
        """The tool's spec; raises ToolError (ToolNotConfigured) when it cannot run."""
        ...

    async def invoke(
        self, ref: ToolRef, arguments: dict[str, Any], call: ToolCall
    ) -> ToolOutput: ...


@dataclass(slots=True)
class AgentTool:
    """One tool offered to the model."""

    ref: ToolRef
    spec: ToolSpec
    fixed: dict[str, Any] = field(default_factory=dict)  # configured values, sent every call
    description: str = ""  # overrides the spec's description when set (node `extra`)
    manual: frozenset[str] = frozenset()  # llm parameters the node fixed by hand

    @property
    def name(self) -> str:
        return self.ref.tool_name

    @property
    def label(self) -> str:
        return self.spec.label or self.ref.tool_name

    def model_parameters(self) -> list[str]:
        return [
            p.name
            for p in self.spec.parameters
            if p.form == "llm" and p.type not in FILE_TYPES and p.name not in self.manual
        ]

    def schema(self) -> dict[str, Any]:
        """The parameters the model fills, as Dify's prompt tool carries them."""
        properties: dict[str, Any] = {}
        required: list[str] = []
        wanted = set(self.model_parameters())
        for p in self.spec.parameters:
            if p.name not in wanted:
                continue
            prop: dict[str, Any] = {
                "type": _NORMAL_TYPES.get(p.type, "string"),
                "description": p.description or "",
            }
            if p.type == "select" and p.options:
                prop["enum"] = list(p.options)
            properties[p.name] = prop
            if p.required and p.name not in required:
                required.append(p.name)
        return {"type": "object", "properties": properties, "required": required}

    def prompt_tool(self) -> dict[str, Any]:
        """`{name, description, parameters}`: the ReAct prompt's `{{tools}}` entries."""
        return {
            "name": self.name,
            "description": self.description or self.spec.description,
            "parameters": self.schema(),
        }

    def function(self) -> dict[str, Any]:
        """The OpenAI `tools` entry (function calling)."""
        return {"type": "function", "function": self.prompt_tool()}

    def arguments(self, given: Mapping[str, Any], fixed_wins: bool) -> dict[str, Any]:
        """What the tool is invoked with: Dify's classic runner lets configured values
        override the model's; the agent strategy plugin lets the model's win."""
        if fixed_wins:
            return {**given, **self.fixed}
        return {**self.fixed, **given}


def llm_fixed_values(spec: ToolSpec, configured: Mapping[str, Any]) -> dict[str, Any]:
    """Configured values of the parameters the model does not fill (an agent-chat tool's
    `tool_parameters`): values given for `llm` parameters are ignored, as Dify does."""
    llm = {p.name for p in spec.parameters if p.form == "llm"}
    return {name: value for name, value in configured.items() if name not in llm}


class RunTools:
    """Tools made for one run (an agent-chat app's dataset tools), asked before the
    runtime; a reference neither knows is a ToolError."""

    def __init__(self, local: Sequence[Tool], runtime: ToolRunner | None) -> None:
        self._local = {tool.spec.ref: tool for tool in local}
        self._runtime = runtime

    async def spec(self, ref: ToolRef) -> ToolSpec:
        tool = self._local.get(ref)
        if tool is not None:
            return tool.spec
        return await self._fallback(ref).spec(ref)

    async def invoke(self, ref: ToolRef, arguments: dict[str, Any], call: ToolCall) -> ToolOutput:
        tool = self._local.get(ref)
        if tool is not None:
            return await tool.invoke(arguments, call)
        return await self._fallback(ref).invoke(ref, arguments, call)

    def _fallback(self, ref: ToolRef) -> ToolRunner:
        if self._runtime is None:
            raise ToolError(f"{ref.describe()} is not available: this run has no tool runtime")
        return self._runtime
