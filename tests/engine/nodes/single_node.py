"""Run one node in-process: a NodeContext over a pool, with the services a test gives
(a real local sandbox, the guarded HTTP caller, fakes for file storage)."""

from typing import Any

from app.core.app_mode import AppMode
from app.engine.graph.model import NodeSpec
from app.engine.nodes.base import NodeContext, NodeResult
from app.engine.nodes.registry import NODE_TYPES
from app.engine.run_context import RunContext
from app.engine.variables.pool import VariablePool
from app.engine.workflow.env import RunScope, WorkflowLimits, WorkflowRun, WorkflowServices
from tests.engine.fakes import FakeGateway


def spec(node_type: str, data: dict[str, Any], node_id: str = "node") -> NodeSpec:
    return NodeSpec(id=node_id, type=node_type, title=node_id.title(), data=data)


def context(
    node_spec: NodeSpec,
    pool: VariablePool | None = None,
    services: WorkflowServices | None = None,
    limits: WorkflowLimits | None = None,
) -> NodeContext:
    workflow = WorkflowRun(
        mode=AppMode.WORKFLOW,
        app_id="app",
        workflow_id="workflow",
        run_id="run",
        task_id="task",
        limits=limits or WorkflowLimits(),
        services=services or WorkflowServices(),
    )
    return NodeContext(
        spec=node_spec,
        execution_id="execution",
        pool=pool or VariablePool(),
        run=RunContext(FakeGateway(), lambda event: None),
        workflow=workflow,
        scope=RunScope(),
        stream=lambda text: None,
    )


async def run_node(
    node_type: str,
    data: dict[str, Any],
    pool: VariablePool | None = None,
    services: WorkflowServices | None = None,
    limits: WorkflowLimits | None = None,
) -> NodeResult:
    node_spec = spec(node_type, {"type": node_type, **data})
    node = NODE_TYPES[node_type](node_spec)
    return await node.run(context(node_spec, pool, services, limits))


def pool_with(values: dict[str, dict[str, Any]], secrets: tuple[str, ...] = ()) -> VariablePool:
    """A pool holding `{node_id: {name: value}}` (`env` goes to the environment)."""
    pool = VariablePool(environment=values.get("env"), secrets=secrets)
    for node_id, outputs in values.items():
        if node_id != "env":
            pool.add_outputs(node_id, outputs)
    return pool
