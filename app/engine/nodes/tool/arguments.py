"""A tool node's arguments from the pool, as Dify builds them: a `mixed` input (and a text
`constant`) is a `{{#…#}}` template rendered as text; a `variable` input is the selected
value itself (files as Dify's file mappings); other constants pass as they are. A variable
that does not resolve fails the node when the tool requires that parameter and is left out
otherwise. Configurations (form values) go under the parameters."""

from typing import Any

from app.engine.nodes.base import NodeError
from app.engine.nodes.tool.entities import ToolInput, ToolNodeConfig
from app.engine.variables.pool import MISSING, VariablePool
from app.engine.variables.templates import render
from app.engine.variables.values import plain
from app.integrations.tools.base import ToolSpec


def _value(name: str, entry: ToolInput, pool: VariablePool, required: bool) -> Any:
    if entry.kind == "variable":
        found = pool.lookup(entry.selector)
        if found is MISSING:
            if required:
                raise NodeError(
                    f"Variable {list(entry.selector)} does not exist", "ToolParameterError"
                )
            return MISSING
        return plain(found)  # files as Dify's file mappings
    if isinstance(entry.value, str):
        return render(entry.value, pool)
    return entry.value


def build_arguments(config: ToolNodeConfig, spec: ToolSpec, pool: VariablePool) -> dict[str, Any]:
    required = {p.name for p in spec.parameters if p.required}
    arguments: dict[str, Any] = {}
    for group in (config.configurations, config.parameters):
        for name, entry in group.items():
            value = _value(name, entry, pool, name in required)
            if value is not MISSING:
                arguments[name] = value
    return arguments
