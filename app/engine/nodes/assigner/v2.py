"""Assigner v2 (`version: "2"`): a list of items, each an operation on one variable with a
variable or constant input, applied in order and checked as Dify checks them (the target
exists, the operation suits its type, the input type suits the operation, the input value
suits both). An input variable that holds None skips its item. Any failure fails the node
and writes nothing."""

import json
from dataclasses import dataclass
from typing import Any

from app.engine.nodes.assigner import operations as ops
from app.engine.nodes.assigner.writes import UPDATED_VARIABLES, PendingWrites, VariableNotFound
from app.engine.nodes.base import NodeConfigError, NodeContext, NodeError, NodeResult
from app.engine.variables.pool import MISSING
from app.engine.variables.values import segment_type

INPUT_TYPES = ("variable", "constant")
ERROR_TYPE = "VariableOperatorNodeError"


@dataclass(frozen=True, slots=True)
class Item:
    selector: tuple[str, ...]
    input_type: str
    operation: str
    value: Any  # a selector (variable input), the constant, or None

    @classmethod
    def parse(cls, raw: Any) -> "Item":
        if not isinstance(raw, dict):
            raise NodeConfigError("an assigner item must be an object")
        selector = raw.get("variable_selector")
        if not isinstance(selector, list):
            raise NodeConfigError("an assigner item needs a variable_selector")
        input_type, operation = raw.get("input_type"), raw.get("operation")
        if input_type not in INPUT_TYPES:
            raise NodeConfigError(f"unsupported assigner input_type {input_type!r}")
        if operation not in ops.OPERATIONS:
            raise NodeConfigError(f"unsupported assigner operation {operation!r}")
        value = raw.get("value")
        reads = input_type == "variable" and operation not in ops.NO_VALUE and value is not None
        if reads and not isinstance(value, list):
            raise NodeConfigError(f"the input of {operation} is not a variable selector")
        return cls(tuple(str(s) for s in selector), str(input_type), str(operation), value)

    @property
    def reads_variable(self) -> bool:
        return (
            self.input_type == "variable"
            and self.operation not in ops.NO_VALUE
            and self.value is not None
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "variable_selector": list(self.selector),
            "input_type": self.input_type,
            "operation": self.operation,
            "value": self.value,
        }


_SKIP = object()


def _fail(message: str) -> NodeError:
    return NodeError(message, ERROR_TYPE)


@dataclass(frozen=True, slots=True)
class AssignV2:
    items: tuple[Item, ...]

    @classmethod
    def parse(cls, data: dict[str, Any]) -> "AssignV2":
        raw = data.get("items") or []
        if not isinstance(raw, list):
            raise NodeConfigError("assigner items must be a list")
        return cls(tuple(Item.parse(item) for item in raw))

    def _input(self, item: Item, kind: str, writes: PendingWrites) -> Any:
        value = item.value
        if item.reads_variable:
            value = writes.read(value)
            if value is MISSING:
                raise VariableNotFound(item.value)
            if value is None:
                return _SKIP
        if item.operation == ops.SET and kind == "object" and isinstance(value, str | bytes):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise _fail(f"Invalid input value {value}") from exc
        return value

    def _apply(self, item: Item, writes: PendingWrites) -> None:
        current = writes.target(item.selector)
        kind = segment_type(current)
        if not ops.operation_supported(kind, item.operation):
            raise _fail(f"Operation {item.operation} is not supported for type {kind}")
        if item.input_type == "variable" and not ops.variable_input_supported(item.operation):
            raise _fail(f"Input type variable is not supported for operation {item.operation}")
        if item.input_type == "constant" and not ops.constant_input_supported(kind, item.operation):
            raise _fail(f"Input type constant is not supported for operation {item.operation}")
        value = self._input(item, kind, writes)
        if value is _SKIP:
            return
        if not ops.input_valid(kind, item.operation, value):
            raise _fail(f"Invalid input value {value}")
        writes.write(item.selector, ops.apply(item.operation, kind, current, value))

    async def run(self, ctx: NodeContext, header: dict[str, Any]) -> NodeResult:
        inputs = {**header, "items": [item.to_dict() for item in self.items]}
        writes = PendingWrites(ctx)
        try:
            for item in self.items:
                self._apply(item, writes)
        except NodeError as exc:
            exc.inputs = inputs
            raise
        await writes.commit()
        process_data: dict[str, Any] = {name: value for (_, name), value in writes.values.items()}
        process_data[UPDATED_VARIABLES] = writes.updated_variables()
        return NodeResult(inputs=inputs, process_data=process_data)
