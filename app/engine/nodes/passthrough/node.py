"""Nodes that only mark a place: a container's start (`iteration-start`, `loop-start`), and
`loop-end`, whose arrival ends the loop's round and the loop (the scheduler sees to that).

The start markers are silent: Dify filters their events out of a container's stream, so
they show in no event and no stored execution. `loop-end` is reported like any node."""

from app.engine.nodes.base import Node, NodeContext, NodeResult


class IterationStartNode(Node):
    node_type = "iteration-start"
    silent = True

    async def run(self, ctx: NodeContext) -> NodeResult:
        return NodeResult()


class LoopStartNode(Node):
    node_type = "loop-start"
    silent = True

    async def run(self, ctx: NodeContext) -> NodeResult:
        return NodeResult()


class LoopEndNode(Node):
    node_type = "loop-end"

    async def run(self, ctx: NodeContext) -> NodeResult:
        return NodeResult()
