"""Helpers for the model-calling node tests (llm, question-classifier, parameter-extractor):
a node run directly against a scripted FakeGateway, with a conversation's history, the
chunks it streamed and the requests it sent."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.core.app_mode import AppMode
from app.engine.graph.model import NodeSpec
from app.engine.nodes.base import Node, NodeContext, NodeResult
from app.engine.nodes.registry import NODE_TYPES
from app.engine.prompt import Turn
from app.engine.run_context import RunContext
from app.engine.variables.pool import VariablePool
from app.engine.workflow.env import RunScope, WorkflowRun, WorkflowServices
from app.gateway.types import ModelRequest
from tests.engine.fakes import FakeGateway, Scripted, message_text

MODEL: dict[str, Any] = {
    "provider": "langgenius/openai/openai",
    "name": "gpt-4o-mini",
    "mode": "chat",
    "completion_params": {"temperature": 0.2},
}


def build(node_type: str, data: dict[str, Any], node_id: str = "node") -> Node:
    spec = NodeSpec(node_id, node_type, str(data.get("title") or node_type), data)
    return NODE_TYPES[node_type](spec)


def chat_pool(query: str = "", **start: Any) -> VariablePool:
    """An advanced-chat pool (it has a conversation, so memory applies)."""
    system = {"query": query, "files": [], "conversation_id": "c1", "dialogue_count": 1}
    pool = VariablePool(system)
    pool.add_outputs("start", start)
    return pool


def workflow_pool(**start: Any) -> VariablePool:
    pool = VariablePool({"files": []})
    pool.add_outputs("start", start)
    return pool


@dataclass
class ModelRun:
    result: NodeResult
    gateway: FakeGateway
    streamed: list[str] = field(default_factory=list)

    @property
    def request(self) -> ModelRequest:
        [request] = self.gateway.calls
        return request

    def messages(self) -> list[tuple[str, str]]:
        return [(str(m["role"]), message_text(m)) for m in self.request.messages]


def context(
    node: Node,
    pool: VariablePool,
    gateway: FakeGateway,
    streamed: list[str],
    history: list[Turn] | None = None,
    services: WorkflowServices | None = None,
    emit: Callable[[str, dict[str, Any]], None] | None = None,
) -> NodeContext:
    mode = AppMode.ADVANCED_CHAT if pool.lookup(("sys", "conversation_id")) else AppMode.WORKFLOW
    workflow = WorkflowRun(
        mode=mode,
        app_id="app",
        workflow_id="workflow",
        run_id="run",
        task_id="task",
        services=services or WorkflowServices(),
        history=list(history or []),
    )
    return NodeContext(
        spec=node.spec,
        execution_id="execution",
        pool=pool,
        run=RunContext(gateway, lambda event: None),
        workflow=workflow,
        scope=RunScope(),
        stream=streamed.append,
        emit=emit,
    )


async def run_model_node(
    node: Node,
    pool: VariablePool,
    script: list[Scripted] | None = None,
    *,
    gateway: FakeGateway | None = None,
    history: list[Turn] | None = None,
    services: WorkflowServices | None = None,
    emit: Callable[[str, dict[str, Any]], None] | None = None,
) -> ModelRun:
    gateway = gateway or FakeGateway(script=list(script or []))
    streamed: list[str] = []
    result = await node.run(context(node, pool, gateway, streamed, history, services, emit))
    return ModelRun(result, gateway, streamed)
