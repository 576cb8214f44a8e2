"""`start`: the run's inputs (checked against the start form by the service that starts
the run) and the system variables, as outputs (`sys.query`, …)."""

from typing import Any

from app.engine.nodes.base import Node, NodeContext, NodeResult
from app.engine.variables.pool import SYSTEM


class StartNode(Node):
    node_type = "start"

    async def run(self, ctx: NodeContext) -> NodeResult:
        outputs: dict[str, Any] = dict(ctx.workflow.inputs)
        for key, value in ctx.pool.scope(SYSTEM).items():
            outputs[f"sys.{key}"] = value
        return NodeResult(outputs=outputs, inputs=dict(outputs))
