"""Small helpers for node tests: a node run directly with a NodeContext, or a tiny graph
compiled and run by the engine."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.core.app_mode import AppMode
from app.engine.events import Event, MessageStreamContext
from app.engine.graph.model import NodeSpec
from app.engine.nodes.base import Node, NodeContext, NodeResult
from app.engine.run_context import RunContext
from app.engine.variables.pool import VariablePool
from app.engine.workflow.engine import WorkflowOutcome, compile_workflow, run_workflow
from app.engine.workflow.env import RunScope, WorkflowRun, WorkflowServices
from app.engine.workflow.events import NodeExecution, WorkflowStream
from tests.engine.fakes import FakeGateway


def spec(node_type: str, data: dict[str, Any], node_id: str = "node") -> NodeSpec:
    return NodeSpec(node_id, node_type, str(data.get("title") or node_type), data)


def workflow_run(
    mode: AppMode = AppMode.WORKFLOW,
    services: WorkflowServices | None = None,
    inputs: dict[str, Any] | None = None,
) -> WorkflowRun:
    return WorkflowRun(
        mode=mode,
        app_id="app",
        workflow_id="workflow",
        run_id="run",
        task_id="task",
        services=services or WorkflowServices(),
        inputs=dict(inputs or {}),
    )


async def run_node(
    node: Node, pool: VariablePool, services: WorkflowServices | None = None
) -> NodeResult:
    ctx = NodeContext(
        spec=node.spec,
        execution_id="execution",
        pool=pool,
        run=RunContext(FakeGateway(), lambda event: None),
        workflow=workflow_run(services=services),
        scope=RunScope(),
        stream=lambda text: None,
    )
    return await node.run(ctx)


@dataclass
class GraphRun:
    outcome: WorkflowOutcome
    events: list[Event]
    executions: list[NodeExecution]
    pool: VariablePool
    saved: dict[str, Any] = field(default_factory=dict)

    def runs(self, node_id: str) -> int:
        return sum(1 for e in self.executions if e.spec.id == node_id)

    def ran(self) -> set[str]:
        return {e.spec.id for e in self.executions}

    def execution(self, node_id: str) -> NodeExecution:
        return next(e for e in self.executions if e.spec.id == node_id)

    def streamed(self) -> list[tuple[str, list[str]]]:
        """(text, from_variable_selector) of every answer chunk, in order."""
        return [
            (str(e["answer"]), list(e["from_variable_selector"]))
            for e in self.events
            if e.get("event") == "message"
        ]


def graph(
    nodes: Sequence[tuple[str, dict[str, Any]]], edges: Sequence[tuple[str, str, str]]
) -> dict[str, Any]:
    """A DSL `workflow` block: nodes as (id, data), edges as (source, handle, target)."""
    return {
        "graph": {
            "nodes": [{"id": node_id, "type": "custom", "data": data} for node_id, data in nodes],
            "edges": [
                {"id": f"{s}-{h}-{t}", "source": s, "sourceHandle": h, "target": t}
                for s, h, t in edges
            ],
        }
    }


async def run_graph(
    workflow: dict[str, Any],
    mode: AppMode = AppMode.WORKFLOW,
    inputs: dict[str, Any] | None = None,
    conversation: dict[str, Any] | None = None,
    query: str = "",
) -> GraphRun:
    saved: dict[str, Any] = {}

    async def save(name: str, value: Any) -> None:
        saved[name] = value

    services = WorkflowServices(save_conversation_variable=save)
    chat = None
    system: dict[str, Any] = {"files": [], "user_id": "user"}
    if mode is AppMode.ADVANCED_CHAT:
        chat = MessageStreamContext("task", "message", "conversation", 1)
        system.update(query=query, conversation_id="conversation", dialogue_count=1)
    pool = VariablePool(system, {}, conversation or {})
    events: list[Event] = []
    executions: list[NodeExecution] = []
    outcome = await run_workflow(
        compile_workflow(workflow),
        workflow_run(mode, services, inputs),
        pool,
        RunContext(FakeGateway(), events.append),
        WorkflowStream("task", "run", chat),
        60,
        executions.append,
    )
    return GraphRun(outcome, events, executions, pool, saved)
