"""A loop's variables (`loop_variables: [{label, var_type, value_type, value}]`): typed
constants, read once when the workflow is built, or selectors, read when the loop starts.

Constants follow Dify's LoopNode._get_segment_for_constant: arrays of strings, numbers and
objects are JSON text (anything else, or empty text, is an empty array); other types take
the value as it is, and text that does not fit the type is read as JSON once more."""

import json
from dataclasses import dataclass
from typing import Any

from app.engine.nodes.base import NodeConfigError

SCALAR_TYPES = ("string", "number", "object", "boolean")
JSON_ARRAY_TYPES = ("array[string]", "array[number]", "array[object]")
VAR_TYPES = (*SCALAR_TYPES, *JSON_ARRAY_TYPES, "array[boolean]")


@dataclass(frozen=True, slots=True)
class LoopVariable:
    label: str
    var_type: str
    selector: tuple[str, ...] | None  # value_type `variable`
    constant: Any = None  # value_type `constant`, already typed


def _fits(var_type: str, value: Any) -> bool:
    def number(item: Any) -> bool:
        return isinstance(item, int | float) and not isinstance(item, bool)

    element = {
        "string": lambda item: isinstance(item, str),
        "number": number,
        "object": lambda item: isinstance(item, dict),
        "boolean": lambda item: isinstance(item, bool),
    }
    if var_type in SCALAR_TYPES:
        return bool(element[var_type](value))
    inner = var_type[len("array[") : -1]
    return isinstance(value, list) and all(element[inner](item) for item in value)


def _kind(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def typed_constant(var_type: str, raw: Any) -> Any:
    """The constant as a value of `var_type`; ValueError with Dify's mismatch message."""
    value = raw
    if var_type in JSON_ARRAY_TYPES:
        value = json.loads(raw) if raw and isinstance(raw, str) else []
    if value == [] and var_type.startswith("array["):
        return []
    if _fits(var_type, value):
        return value
    if isinstance(raw, str) and value is raw:
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        if _fits(var_type, value):
            return value
    got = "None" if value is None else f"{_kind(value)}, value={value}"
    raise ValueError(f"Type mismatch: expected {var_type}, but got {got}")


def parse_loop_variables(raw: Any) -> tuple[LoopVariable, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise NodeConfigError("loop_variables must be a list")
    found: list[LoopVariable] = []
    for entry in raw:
        if not isinstance(entry, dict) or not isinstance(entry.get("label"), str):
            raise NodeConfigError("a loop variable needs a label")
        label, var_type = entry["label"], entry.get("var_type")
        if var_type not in VAR_TYPES:
            raise NodeConfigError(f"loop variable {label} has an unknown type {var_type!r}")
        kind, value = entry.get("value_type"), entry.get("value")
        if kind == "variable":
            if not isinstance(value, list) or len(value) < 2:
                raise NodeConfigError(f"Invalid value for loop variable {label}")
            found.append(LoopVariable(label, var_type, tuple(str(part) for part in value)))
        elif kind == "constant":
            try:
                constant = typed_constant(var_type, value)
            except ValueError as exc:  # JSON errors included
                raise NodeConfigError(f"loop variable {label}: {exc}") from exc
            found.append(LoopVariable(label, var_type, None, constant))
        else:
            raise NodeConfigError(f"Invalid value type '{kind}' for loop variable {label}")
    return tuple(found)
