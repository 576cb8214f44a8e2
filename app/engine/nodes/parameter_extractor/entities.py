"""A parameter extractor's `parameters`, checked when the workflow is built, and the JSON
schema Dify builds from them (the tool's parameters, or the structure the prompt shows)."""

from dataclasses import dataclass
from typing import Any

from app.engine.nodes.base import NodeConfigError

# DSL type → the value type Dify checks it as (`bool` and `select` are older spellings).
PARAMETER_TYPES = {
    "string": "string",
    "number": "number",
    "boolean": "boolean",
    "bool": "boolean",
    "select": "string",
    "array[string]": "array[string]",
    "array[number]": "array[number]",
    "array[object]": "array[object]",
    "array[boolean]": "array[boolean]",
}
RESERVED = ("__reason", "__is_success")


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    type: str  # string | number | boolean | array[string|number|object|boolean]
    description: str
    required: bool
    options: tuple[str, ...] = ()

    @property
    def item_type(self) -> str | None:
        return self.type[6:-1] if self.type.startswith("array[") else None

    def as_dict(self) -> dict[str, Any]:
        """As Dify lists it among the node's inputs."""
        return {
            "name": self.name,
            "type": self.type,
            "options": list(self.options) or None,
            "description": self.description,
            "required": self.required,
        }

    def schema(self) -> dict[str, Any]:
        found: dict[str, Any] = {"description": self.description}
        if self.item_type is not None:
            found["type"] = "array"
            found["items"] = {"type": self.item_type}
        else:
            found["type"] = self.type
        if self.options:
            found["enum"] = list(self.options)
        return found


def parse_parameters(raw: Any) -> tuple[Parameter, ...]:
    found = []
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, dict):
            raise NodeConfigError("a parameter is not a mapping")
        name = entry.get("name")
        if not name:
            raise NodeConfigError("Parameter name is required")
        if name in RESERVED:
            raise NodeConfigError("Invalid parameter name, __reason and __is_success are reserved")
        kind = PARAMETER_TYPES.get(str(entry.get("type")))
        if kind is None:
            raise NodeConfigError(
                f"type {entry.get('type')} is not allowd to use in Parameter Extractor node."
            )
        options = entry.get("options")
        options = options if isinstance(options, list) else []
        found.append(
            Parameter(
                name=str(name),
                type=kind,
                description=str(entry.get("description") or ""),
                required=bool(entry.get("required")),
                options=tuple(str(o) for o in options),
            )
        )
    return tuple(found)


def parameters_schema(parameters: tuple[Parameter, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {p.name: p.schema() for p in parameters},
        "required": [p.name for p in parameters if p.required],
    }
