"""Deterministic values shaped like a JSON schema: what the offline model answers when it
is offered tools or asked for JSON, so graph apps run end to end without a provider."""

from typing import Any

OFFLINE_TEXT = "echo"  # every free-text string the offline model fills in
_MAX_DEPTH = 8


def sample(schema: Any, depth: int = 0) -> Any:
    """A value valid for the common JSON-schema shapes (type, enum, const, default,
    properties, items with minItems, anyOf/oneOf/allOf); `{}` for anything unknown."""
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return {}
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            return sample(options[0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None and isinstance(schema.get("properties"), dict):
        kind = "object"
    match kind:
        case "string":
            return OFFLINE_TEXT
        case "number" | "integer":
            minimum = schema.get("minimum")
            return minimum if isinstance(minimum, int | float) else 0
        case "boolean":
            return False
        case "null":
            return None
        case "array":
            count = schema.get("minItems")
            count = count if isinstance(count, int) and count > 0 else 0
            return [sample(schema.get("items"), depth + 1) for _ in range(count)]
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    return {str(name): sample(spec, depth + 1) for name, spec in properties.items()}


def response_schema(response_format: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema of an OpenAI `response_format` (None for plain `json_object`)."""
    if response_format.get("type") != "json_schema":
        return None
    spec = response_format.get("json_schema")
    schema = spec.get("schema") if isinstance(spec, dict) else None
    return schema if isinstance(schema, dict) else None
