"""Assigner v1 (`version` absent or "1"): one variable, `write_mode` over-write (with the
input variable's value), append (to an array) or clear (to its type's empty value)."""

from dataclasses import dataclass
from typing import Any

from app.engine.nodes.assigner.operations import is_array, zero_value
from app.engine.nodes.assigner.writes import UPDATED_VARIABLES, PendingWrites
from app.engine.nodes.base import NodeConfigError, NodeContext, NodeError, NodeResult
from app.engine.variables.pool import MISSING
from app.engine.variables.values import segment_type

WRITE_MODES = ("over-write", "append", "clear")


def _selector(raw: Any, field: str) -> tuple[str, ...]:
    if not isinstance(raw, list):
        raise NodeConfigError(f"{field} must be a variable selector")
    return tuple(str(part) for part in raw)


@dataclass(frozen=True, slots=True)
class AssignV1:
    target: tuple[str, ...]
    write_mode: str
    source: tuple[str, ...]

    @classmethod
    def parse(cls, data: dict[str, Any]) -> "AssignV1":
        mode = data.get("write_mode")
        if mode not in WRITE_MODES:
            raise NodeConfigError(f"write_mode must be one of {', '.join(WRITE_MODES)}")
        return cls(
            _selector(data.get("assigned_variable_selector"), "assigned_variable_selector"),
            str(mode),
            _selector(data.get("input_variable_selector") or [], "input_variable_selector"),
        )

    async def run(self, ctx: NodeContext) -> NodeResult:
        writes = PendingWrites(ctx)
        current = writes.target(self.target, "assigned variable not found")
        kind = segment_type(current)
        if self.write_mode == "clear":
            value = zero_value(kind, current)
            written = value
        else:
            value = writes.read(self.source)
            if value is MISSING:
                raise NodeError("input value not found", "VariableOperatorNodeError")
            if self.write_mode == "append":
                if not is_array(kind):
                    raise NodeError(
                        "append mode requires an array variable", "VariableOperatorNodeError"
                    )
                written = [*current, value]
            else:
                written = value
        writes.write(self.target, written)
        await writes.commit()
        return NodeResult(
            inputs={"value": value},
            process_data={UPDATED_VARIABLES: writes.updated_variables()},
        )
