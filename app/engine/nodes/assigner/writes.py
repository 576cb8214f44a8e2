"""The variables an assigner node changes: read through the node's own pending writes (so
a later item sees an earlier one), then written to the pool together once every item
succeeded, conversation variables persisted at once so a later failure of the run keeps
them, as Dify does."""

from collections.abc import Sequence
from typing import Any

from app.engine.nodes.base import NodeContext, NodeError
from app.engine.variables.pool import CONVERSATION, MISSING
from app.engine.variables.values import FileValue, json_size, segment_type

UPDATED_VARIABLES = "__updated_variables"  # Dify's process-data key

Selector = tuple[str, ...]


class VariableNotFound(NodeError):
    def __init__(self, selector: Sequence[str], message: str | None = None) -> None:
        super().__init__(message or f"Variable {list(selector)} not found", "VariableNotFoundError")


class PendingWrites:
    def __init__(self, ctx: NodeContext) -> None:
        self._ctx = ctx
        self.values: dict[Selector, Any] = {}  # in first-write order

    def read(self, selector: Sequence[str]) -> Any:
        """A value the node can read (MISSING when there is none)."""
        key = tuple(selector)
        if key[:2] in self.values:
            return _drill(self.values[key[:2]], key[2:])
        return self._ctx.pool.lookup(key)

    def target(self, selector: Sequence[str], message: str | None = None) -> Any:
        """The current value of a variable the node may write: `[scope, name]` only."""
        value = self.read(selector) if len(selector) == 2 else MISSING
        if value is MISSING:
            raise VariableNotFound(selector, message)
        return value

    def write(self, selector: Sequence[str], value: Any) -> None:
        self.values[(str(selector[0]), str(selector[1]))] = value

    def updated_variables(self) -> list[dict[str, Any]]:
        """Dify's `__updated_variables` entries."""
        return [
            {
                "name": selector[1],
                "selector": list(selector),
                "value_type": segment_type(value),
                "new_value": value,
            }
            for selector, value in self.values.items()
        ]

    async def commit(self) -> None:
        """Into the pool; conversation variables also to the conversation's storage. A
        value over the size limit fails the node first (Dify's MAX_VARIABLE_SIZE)."""
        pool = self._ctx.pool
        save = self._ctx.workflow.services.save_conversation_variable
        limit = self._ctx.workflow.limits.max_variable_size
        for (scope, name), value in self.values.items():
            if json_size(value) > limit:
                raise NodeError(
                    f"Variable {scope}.{name} is larger than {limit} bytes.",
                    "VariableSizeExceeded",
                )
        for (scope, name), value in self.values.items():
            pool.add(scope, name, value)
            if scope == CONVERSATION and save is not None:
                await save(name, value)


def _drill(value: Any, keys: Sequence[str]) -> Any:
    for key in keys:
        if isinstance(value, FileValue):
            value = value.attribute(key)
        elif isinstance(value, dict) and key in value:
            value = value[key]
        else:
            return MISSING
    return value
