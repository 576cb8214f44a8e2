"""`list-operator`: an array of strings, numbers, booleans or files, filtered
(`filter_by`), reduced to its n-th item (`extract_by`, 1-based, a template), sorted
(`order_by`, files by an attribute) and cut (`limit`), in that order, as Dify does.
Outputs `result`, `first_record`, `last_record` (None for an empty result). An empty or
None input is an empty result; a missing variable or another type fails the node."""

from dataclasses import dataclass
from typing import Any

from app.engine.graph.model import NodeSpec
from app.engine.nodes.base import Node, NodeConfigError, NodeContext, NodeError, NodeResult
from app.engine.nodes.list_operator import filters
from app.engine.variables.pool import MISSING, VariablePool
from app.engine.variables.templates import render
from app.engine.variables.values import segment_type

SUPPORTED = ("array[string]", "array[number]", "array[boolean]", "array[file]")


@dataclass(frozen=True, slots=True)
class Filter:
    key: str
    operator: str
    value: Any  # str (a template), list[str] or bool


def _section(data: dict[str, Any], name: str) -> dict[str, Any]:
    section = data.get(name)
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise NodeConfigError(f"{name} must be an object")
    return section


def _filters(section: dict[str, Any]) -> tuple[Filter, ...]:
    found: list[Filter] = []
    for raw in section.get("conditions") or []:
        if not isinstance(raw, dict):
            raise NodeConfigError("a list-operator condition must be an object")
        operator = raw.get("comparison_operator", "contains")
        if operator not in filters.OPERATORS:
            raise NodeConfigError(f"unsupported list-operator condition {operator!r}")
        value = raw.get("value", "")
        if not isinstance(value, str | bool | list):
            raise NodeConfigError(f"unsupported list-operator value {value!r}")
        found.append(Filter(str(raw.get("key") or ""), str(operator), value))
    return tuple(found)


class ListOperatorNode(Node):
    node_type = "list-operator"

    def __init__(self, spec: NodeSpec) -> None:
        super().__init__(spec)
        data = spec.data
        variable = data.get("variable") or []
        if not isinstance(variable, list):
            raise NodeConfigError("variable must be a variable selector")
        self.selector = tuple(str(part) for part in variable)
        filter_by, order_by = _section(data, "filter_by"), _section(data, "order_by")
        limit, extract_by = _section(data, "limit"), _section(data, "extract_by")
        self.filter_enabled = bool(filter_by.get("enabled"))
        self.filters = _filters(filter_by)
        self.order_enabled = bool(order_by.get("enabled"))
        self.order_key = str(order_by.get("key") or "")
        self.order = order_by.get("value", "asc")
        if self.order not in ("asc", "desc"):
            raise NodeConfigError("order_by value must be asc or desc")
        self.limit_enabled = bool(limit.get("enabled"))
        size = limit.get("size", -1)
        if not isinstance(size, int):
            raise NodeConfigError("limit size must be a number")
        self.limit_size = size
        self.extract_enabled = bool(extract_by.get("enabled"))
        self.serial = str(extract_by.get("serial", "1"))

    async def run(self, ctx: NodeContext) -> NodeResult:
        value = ctx.pool.lookup(self.selector)
        if value is MISSING:
            raise NodeError(
                f"Variable not found for selector: {list(self.selector)}", "VariableNotFound"
            )
        if not value:
            empty: dict[str, Any] = {"variable": []}
            return NodeResult(outputs=_outputs([]), inputs=empty, process_data=dict(empty))
        kind = segment_type(value)
        if kind not in SUPPORTED:
            raise NodeError(
                f"Variable {list(self.selector)} is not an array type, actual type: {kind}",
                "ListOperatorError",
            )
        inputs = {"variable": list(value)}
        try:
            items = self._operate(list(value), kind, ctx.pool)
        except (filters.ListOperatorError, TypeError, ValueError) as exc:
            error_type = type(exc).__name__
            raise NodeError(str(exc), error_type, inputs=inputs, process_data=inputs) from exc
        return NodeResult(outputs=_outputs(items), inputs=inputs, process_data=dict(inputs))

    def _operate(self, items: list[Any], kind: str, pool: VariablePool) -> list[Any]:
        if self.filter_enabled:
            for condition in self.filters:
                test = _test(condition, kind, pool)
                items = [item for item in items if test(item)]
        if self.extract_enabled:
            serial = int(render(self.serial, pool))
            if serial < 1:
                raise ValueError(f"Invalid serial index: must be >= 1, got {serial}")
            if serial > len(items):
                raise filters.ListOperatorError(
                    f"Invalid serial index: must be <= {len(items)}, got {serial}"
                )
            items = [items[serial - 1]]
        if self.order_enabled:
            reverse = self.order == "desc"
            if kind == "array[file]":
                items = sorted(items, key=filters.file_sort_key(self.order_key), reverse=reverse)
            else:
                items = sorted(items, reverse=reverse)
        if self.limit_enabled:
            items = items[: self.limit_size]
        return items


def _test(condition: Filter, kind: str, pool: VariablePool) -> filters.Test:
    value = condition.value
    if kind == "array[boolean]":
        if not isinstance(value, bool):
            raise TypeError(f"Boolean filter expects a boolean value, got {type(value)}")
        return filters.boolean_test(condition.operator, value)
    if kind == "array[file]":
        if isinstance(value, bool):
            raise TypeError(f"File filter expects a string value, got {type(value)}")
        text = render(value, pool) if isinstance(value, str) else value
        return filters.file_test(condition.key, condition.operator, text)
    if not isinstance(value, str):
        raise filters.ListOperatorError(f"Invalid filter value: {value}")
    text = render(value, pool)
    if kind == "array[number]":
        return filters.number_test(condition.operator, float(text))
    return filters.string_test(condition.operator, text)


def _outputs(items: list[Any]) -> dict[str, Any]:
    return {
        "result": items,
        "first_record": items[0] if items else None,
        "last_record": items[-1] if items else None,
    }
