"""Arguments cast to a tool's declared parameter types, as Dify casts them before a tool
runs (workflow values arrive as rendered text: "5", "true", "0"): strings and selects as
text, numbers from text (int unless it has a "."), booleans from true/yes/y/1 and
false/no/n/0, arrays and objects from JSON text. A missing or null argument takes the
parameter's default (an empty text stays empty: tools treat it themselves). Arguments the
tool does not declare pass through unchanged."""

import json
from collections.abc import Sequence
from typing import Any

from app.integrations.tools.base import ToolError, ToolParameter

_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


def cast(kind: str, value: Any) -> Any:
    if kind in ("string", "select", "secret-input"):
        if isinstance(value, dict | list):  # an object from a variable: as JSON text
            return json.dumps(value, ensure_ascii=False)
        return "" if value is None else value if isinstance(value, str) else str(value)
    if kind == "boolean":
        if value is None:
            return False
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
        return bool(value)
    if kind == "number":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int | float) or value is None:
            return value
        text = str(value).strip()
        if not text:
            return None
        return float(text) if "." in text else int(text)
    if kind == "array":
        if isinstance(value, list) or value is None:
            return value
        if isinstance(value, str):
            try:
                loaded = json.loads(value)
            except ValueError:
                return [value]
            return loaded if isinstance(loaded, list) else [loaded]
        return [value]
    if kind == "object":
        if isinstance(value, dict) or value is None:
            return value
        if isinstance(value, str) and value.strip():
            loaded = json.loads(value)
            if isinstance(loaded, dict):
                return loaded
        raise ValueError("not an object")
    if kind == "files":
        if value is None or isinstance(value, list):
            return value
        return [value]
    if kind == "file":
        if isinstance(value, list):
            if len(value) != 1:
                raise ToolError(
                    "This parameter only accepts one file but got multiple files while invoking."
                )
            return value[0]
        return value
    return value


def coerce(parameters: Sequence[ToolParameter], arguments: dict[str, Any]) -> dict[str, Any]:
    result = dict(arguments)
    for parameter in parameters:
        value = result.get(parameter.name)
        if value is None:
            if parameter.default is None and parameter.name not in result:
                continue
            value = parameter.default
        try:
            result[parameter.name] = cast(parameter.type, value)
        except ToolError:
            raise
        except (TypeError, ValueError):
            raise ToolError(
                f"The tool parameter value {value} is not in correct type of {parameter.type}."
            ) from None
    return result
