"""`end` (workflow apps): `outputs: [{variable, value_selector}]` become the run's outputs
(a missing value is null)."""

from typing import Any

from app.engine.graph.model import NodeSpec
from app.engine.nodes.base import Node, NodeConfigError, NodeContext, NodeResult


class EndNode(Node):
    node_type = "end"

    def __init__(self, spec: NodeSpec) -> None:
        super().__init__(spec)
        self.outputs: list[tuple[str, tuple[str, ...]]] = []
        for entry in spec.data.get("outputs") or []:
            if not isinstance(entry, dict) or not entry.get("variable"):
                continue
            selector = entry.get("value_selector")
            if not isinstance(selector, list):
                raise NodeConfigError(f"output {entry.get('variable')!r} has no value selector")
            self.outputs.append((str(entry["variable"]), tuple(str(s) for s in selector)))

    async def run(self, ctx: NodeContext) -> NodeResult:
        values: dict[str, Any] = {
            name: (ctx.pool.get(selector) if selector else None) for name, selector in self.outputs
        }
        return NodeResult(outputs=values, inputs=dict(values))
