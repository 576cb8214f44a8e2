"""Nodes that only mark a place: a container's start (`iteration-start`, `loop-start`), and
`loop-end`, whose arrival ends the loop's round and the loop (the scheduler sees to that)."""

from app.engine.nodes.base import Node, NodeContext, NodeResult


class IterationStartNode(Node):
    node_type = "iteration-start"

    async def run(self, ctx: NodeContext) -> NodeResult:
        return NodeResult()


class LoopStartNode(Node):
    node_type = "loop-start"

    async def run(self, ctx: NodeContext) -> NodeResult:
        return NodeResult()


class LoopEndNode(Node):
    node_type = "loop-end"

    async def run(self, ctx: NodeContext) -> NodeResult:
        return NodeResult()
