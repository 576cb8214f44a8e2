"""`assigner` (the variable assigner): writes conversation variables, loop variables or
any other `[scope, name]` variable of the run. Version "2" has a list of operations
(assigner/v2.py); earlier DSLs have one write (assigner/v1.py). No outputs; process data
lists the updated variables."""

from typing import Any

from app.engine.graph.model import NodeSpec
from app.engine.nodes.assigner.v1 import AssignV1
from app.engine.nodes.assigner.v2 import AssignV2
from app.engine.nodes.base import Node, NodeConfigError, NodeContext, NodeResult


class AssignerNode(Node):
    node_type = "assigner"

    def __init__(self, spec: NodeSpec) -> None:
        super().__init__(spec)
        self.version = str(spec.data.get("version") or "1")
        if self.version not in ("1", "2"):
            raise NodeConfigError(f"assigner version {self.version} is not known")
        self.operation: AssignV1 | AssignV2 = (
            AssignV2.parse(spec.data) if self.version == "2" else AssignV1.parse(spec.data)
        )

    def written_variables(self) -> frozenset[tuple[str, str]]:
        if isinstance(self.operation, AssignV2):
            targets = [item.selector for item in self.operation.items]
        else:
            targets = [self.operation.target]
        return frozenset((t[0], t[1]) for t in targets if len(t) >= 2)

    async def run(self, ctx: NodeContext) -> NodeResult:
        if isinstance(self.operation, AssignV2):
            header: dict[str, Any] = {
                "title": self.spec.title,
                "desc": self.spec.data.get("desc"),
                "type": self.node_type,
                "version": self.version,
            }
            return await self.operation.run(ctx, header)
        return await self.operation.run(ctx)
