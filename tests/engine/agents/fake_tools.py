"""A scripted tool runtime for agent tests: tools by name, each answering a fixed output,
raising an error, or computing its output from the arguments; every call is recorded."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.engine.agents.tools import AgentTool
from app.integrations.tools.base import (
    ToolCall,
    ToolError,
    ToolNotConfigured,
    ToolOutput,
    ToolParameter,
    ToolRef,
    ToolSpec,
)

Answer = ToolOutput | Exception | Callable[[dict[str, Any]], ToolOutput]


def weather_spec(name: str = "weather", provider: str = "weather_co") -> ToolSpec:
    return ToolSpec(
        ref=ToolRef("builtin", provider, name),
        label="Weather lookup",
        description="Weather of a city",
        parameters=(
            ToolParameter("city", "string", required=True, description="The city"),
            ToolParameter("units", "select", options=("metric", "imperial"), form="form"),
            ToolParameter("photo", "file", description="never offered to the model"),
        ),
    )


@dataclass
class FakeTools:
    specs: dict[str, ToolSpec] = field(default_factory=dict)
    answers: dict[str, Answer] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any], ToolCall]] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)  # tools the operator has not configured

    def add(self, spec: ToolSpec, answer: Answer) -> "FakeTools":
        self.specs[spec.ref.tool_name] = spec
        self.answers[spec.ref.tool_name] = answer
        return self

    async def spec(self, ref: ToolRef) -> ToolSpec:
        if ref.tool_name in self.missing:
            raise ToolNotConfigured(
                f"{ref.describe()} is not configured: set tools.credentials.{ref.provider}"
            )
        found = self.specs.get(ref.tool_name)
        if found is None:
            raise ToolError(f"{ref.describe()} does not exist")
        return found

    async def invoke(self, ref: ToolRef, arguments: dict[str, Any], call: ToolCall) -> ToolOutput:
        self.calls.append((ref.tool_name, dict(arguments), call))
        answer = self.answers[ref.tool_name]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(arguments)
        return answer

    def agent_tools(self, fixed: dict[str, dict[str, Any]] | None = None) -> list[AgentTool]:
        fixed = fixed or {}
        return [AgentTool(s.ref, s, dict(fixed.get(n, {}))) for n, s in self.specs.items()]
