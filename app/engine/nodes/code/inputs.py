"""A node's `variables: [{variable, value_selector}]` (code and template-transform nodes):
parsed once, then read from the pool as the native values user code sees (files as Dify's
file mappings, a missing variable as None)."""

from typing import Any

from app.engine.nodes.base import NodeConfigError
from app.engine.variables.pool import MISSING, VariablePool
from app.engine.variables.values import plain

Variables = list[tuple[str, tuple[str, ...]]]


def parse_variables(data: dict[str, Any]) -> Variables:
    found: Variables = []
    raw = data.get("variables")
    if raw is None:
        return found
    if not isinstance(raw, list):
        raise NodeConfigError("variables must be a list")
    for entry in raw:
        if not isinstance(entry, dict):
            raise NodeConfigError("a variable must be a mapping")
        name = entry.get("variable")
        selector = entry.get("value_selector")
        if not isinstance(name, str) or not name:
            raise NodeConfigError("a variable has no name")
        if not isinstance(selector, list) or not all(isinstance(s, str) for s in selector):
            raise NodeConfigError(f"variable {name!r} has no value selector")
        found.append((name, tuple(selector)))
    return found


def input_values(pool: VariablePool, variables: Variables) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, selector in variables:
        value = pool.lookup(selector) if selector else MISSING
        values[name] = None if value is MISSING else plain(value)
    return values
