"""Workflow-as-tool (`provider_type: workflow`): another imported workflow app called as a
tool. Exports name it by the workspace's workflow-tool id (`provider_id`) and the tool's
name (`provider_name` / `tool_name`); the services layer finds the app (by id, by a
`tools.workflows` entry of the integrations file, or by name) and runs it. Calls nest at
most `max_depth` deep (Dify's WORKFLOW_CALL_MAX_DEPTH): the run a client started is depth
0, each call one deeper, and a call past the limit fails with Dify's message."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from app.integrations.tools.base import (
    ToolCall,
    ToolError,
    ToolOutput,
    ToolParameter,
    ToolRef,
    ToolSpec,
    WorkflowInvoker,
)


@dataclass(frozen=True, slots=True)
class WorkflowTarget:
    """An imported workflow app a reference resolves to, with its start form."""

    app_id: str
    name: str
    description: str
    parameters: tuple[ToolParameter, ...]


# The services layer's lookup of the app a reference names (None: no such app).
WorkflowFinder = Callable[[ToolRef], Awaitable[WorkflowTarget | None]]


class WorkflowTool:
    def __init__(
        self, spec: ToolSpec, target: WorkflowTarget, invoker: WorkflowInvoker, max_depth: int
    ) -> None:
        self.spec = spec
        self.target = target
        self.invoker = invoker
        self.max_depth = max_depth

    async def invoke(self, arguments: dict[str, Any], call: ToolCall) -> ToolOutput:
        depth = call.depth + 1
        if depth > self.max_depth:
            raise ToolError(f"Max workflow call depth {self.max_depth} reached.")
        return await self.invoker(self.target.app_id, arguments, replace(call, depth=depth))


class WorkflowToolProvider:
    provider_types: tuple[str, ...] = ("workflow",)

    def __init__(self, finder: WorkflowFinder, invoker: WorkflowInvoker, max_depth: int) -> None:
        self.finder = finder
        self.invoker = invoker
        self.max_depth = max_depth

    async def find(self, ref: ToolRef) -> WorkflowTool | None:
        target = await self.finder(ref)
        if target is None:
            return None
        spec = ToolSpec(
            ref=ref,
            label=target.name,
            description=target.description or f"Runs the workflow app {target.name}.",
            parameters=target.parameters,
        )
        return WorkflowTool(spec, target, self.invoker, self.max_depth)

    def check(self, ref: ToolRef) -> str | None:
        """Apps live in the database: whether one matches is checked at import (services)."""
        return None
