"""What the extractor makes of the model's answer, as Dify does: the first JSON object in
the tool call's arguments (or in the text), checked against the parameters (a problem is
the `__reason`, never a failure), then every parameter given a value of its type (a
missing or unusable one gets the type's default)."""

import json
from typing import Any

from app.engine.nodes.parameter_extractor.entities import Parameter
from app.engine.variables.values import segment_type

NO_RESULT = "Failed to extract result from function call or text response, using empty result."
_UNSET = object()
_DEFAULTS: dict[str, Any] = {"string": "", "number": 0, "boolean": False}


class ExtractionProblem(ValueError):
    """Why the answer does not fit the parameters (reported in `__reason`)."""


def first_object(text: str) -> dict[str, Any] | None:
    """The first JSON object that starts at a `{` or `[` of the text."""
    decoder = json.JSONDecoder()
    for index, char in enumerate(text):
        if char in "{[":
            try:
                found = decoder.raw_decode(text, index)[0]
            except ValueError:
                continue
            if isinstance(found, dict):
                return found
    return None


def empty_result(parameters: tuple[Parameter, ...]) -> dict[str, Any]:
    """Dify's stand-in when nothing was extracted (array parameters are left out)."""
    return {p.name: _DEFAULTS[p.type] for p in parameters if p.type in _DEFAULTS}


def _valid(kind: str, value: Any) -> bool:
    match kind:
        case "string":
            return isinstance(value, str)
        case "number":
            return isinstance(value, int | float)  # booleans pass, as in Dify
        case "boolean":
            return isinstance(value, bool)
    if not isinstance(value, list):
        return False
    item = kind[6:-1]
    return all(_valid(item, v) if item != "object" else isinstance(v, dict) for v in value)


def _value_type(value: Any) -> str | None:
    kind = segment_type(value)
    return None if kind == "none" and value is not None else kind


def check(parameters: tuple[Parameter, ...], result: dict[str, Any]) -> None:
    if len(parameters) != len(result):
        raise ExtractionProblem("Invalid number of parameters")
    for parameter in parameters:
        if parameter.required and parameter.name not in result:
            raise ExtractionProblem(f"Parameter {parameter.name} is required")
        value = result.get(parameter.name)
        if not _valid(parameter.type, value):
            raise ExtractionProblem(
                f"Invalid value for parameter {parameter.name}, "
                f"expected segment type: {parameter.type}, "
                f"actual_type: {_value_type(value)}, "
                f"python_type: {type(value)}, value: {value}"
            )
        if parameter.type == "string" and parameter.options and value not in parameter.options:
            raise ExtractionProblem(f"Invalid `select` value for parameter {parameter.name}")


def _number(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value) if "." in value else int(value)
        except ValueError:
            return _UNSET
    return _UNSET


def _scalar(kind: str, value: Any) -> Any:
    match kind:
        case "number":
            return _number(value)
        case "boolean":
            return bool(value) if isinstance(value, bool | int) else _UNSET
        case "string":
            return value if isinstance(value, str) else _UNSET
        case "object":
            return value if isinstance(value, dict) else _UNSET
    return _UNSET


def _item(kind: str, value: Any) -> Any:
    if kind == "boolean":  # array items must be real booleans
        return value if isinstance(value, bool) else _UNSET
    return _scalar(kind, value)


def normalised(parameters: tuple[Parameter, ...], result: dict[str, Any]) -> dict[str, Any]:
    """Every parameter with a value of its type: numbers read from strings, array items
    of the wrong type dropped, anything else unusable replaced by the type's default."""
    values: dict[str, Any] = {}
    for parameter in parameters:
        value = result.get(parameter.name, _UNSET)
        item = parameter.item_type
        if value is _UNSET:
            pass
        elif item is not None:
            if isinstance(value, list):
                kept = [_item(item, v) for v in value]
                value = [v for v in kept if v is not _UNSET]
            else:
                value = _UNSET
        else:
            value = _scalar(parameter.type, value)
        if value is _UNSET:
            value = [] if item is not None else _DEFAULTS[parameter.type]
        values[parameter.name] = value
    return values
