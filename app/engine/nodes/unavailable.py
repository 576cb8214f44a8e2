"""A node Kiln cannot run (a type it does not know yet, or data it cannot read): it fails
when a run reaches it, naming itself and why, so error strategies and untaken branches
behave as in Dify."""

from app.engine.graph.model import NodeSpec
from app.engine.nodes.base import Node, NodeContext, NodeError, NodeResult


class UnavailableNode(Node):
    node_type = "unavailable"

    def __init__(self, spec: NodeSpec, reason: str) -> None:
        super().__init__(spec)
        self.reason = reason

    async def run(self, ctx: NodeContext) -> NodeResult:
        raise NodeError(
            f"Node {self.spec.title} ({self.spec.type}) cannot run: {self.reason}",
            "NodeUnavailable",
        )
