"""`variable-aggregator` (also registered under its legacy id `variable-assigner`): the
first selector that has a value, typically the one branch of an if-else that ran. Output
`output`; with groups enabled, one object per group, `{<group_name>: {"output": value}}`,
read by selectors like `[agg, group, output]`. A selector that holds None counts as a value
(Dify's NoneSegment); when no selector has one the output is left out."""

from typing import Any

from app.engine.graph.model import NodeSpec
from app.engine.nodes.base import Node, NodeConfigError, NodeContext, NodeResult
from app.engine.variables.pool import MISSING, VariablePool

Selector = tuple[str, ...]


def _selectors(raw: Any, where: str) -> tuple[Selector, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(s, list) for s in raw):
        raise NodeConfigError(f"{where} must be a list of variable selectors")
    return tuple(tuple(str(part) for part in selector) for selector in raw)


def _groups(data: dict[str, Any]) -> tuple[tuple[str, tuple[Selector, ...]], ...] | None:
    """(group name, selectors) when grouping is on, else None."""
    settings = data.get("advanced_settings")
    if not isinstance(settings, dict) or not settings.get("group_enabled"):
        return None
    found: list[tuple[str, tuple[Selector, ...]]] = []
    for group in settings.get("groups") or []:
        if not isinstance(group, dict) or not isinstance(group.get("group_name"), str):
            raise NodeConfigError("an aggregator group needs a group_name")
        name = group["group_name"]
        found.append((name, _selectors(group.get("variables"), f"group {name!r} variables")))
    return tuple(found)


def _first(pool: VariablePool, selectors: tuple[Selector, ...]) -> tuple[Selector, Any] | None:
    for selector in selectors:
        value = pool.lookup(selector)
        if value is not MISSING:
            return selector, value
    return None


class VariableAggregatorNode(Node):
    node_type = "variable-aggregator"

    def __init__(self, spec: NodeSpec) -> None:
        super().__init__(spec)
        self.variables = _selectors(spec.data.get("variables"), "variables")
        self.groups = _groups(spec.data)

    async def run(self, ctx: NodeContext) -> NodeResult:
        outputs: dict[str, Any] = {}
        inputs: dict[str, Any] = {}
        if self.groups is None:
            found = _first(ctx.pool, self.variables)
            if found is not None:
                selector, value = found
                outputs["output"] = value
                inputs[".".join(selector[1:])] = value
            return NodeResult(outputs=outputs, inputs=inputs)
        for name, selectors in self.groups:
            found = _first(ctx.pool, selectors)
            if found is not None:
                selector, value = found
                outputs[name] = {"output": value}
                inputs[".".join(selector[1:])] = value
        return NodeResult(outputs=outputs, inputs=inputs)
