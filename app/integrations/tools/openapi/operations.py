"""One tool per operation of an OpenAPI document, as Dify derives them
(`ApiBasedToolSchemaParser.parse_openapi_to_tool_bundle`):

- the tool's name is the `operationId`, or else the path without its leading `/` and every
  character outside `[a-zA-Z0-9_-]`, then `_` and the method (`<root>_get` for `/`);
- its parameters are the operation's `parameters` (references followed) and then the
  properties of the first request-body schema (references and `allOf` followed), typed
  number (integer, number), boolean, string, array, file (`format: binary`) or files (an
  array of binary), anything else string; `[]`/`{}` defaults are dropped;
- its description is the operation's `description`, else its `summary`.

Beyond Dify: parameters declared on the path item are inherited (Dify reads only the
operation's), and OpenAPI 3.1 type lists (`[string, "null"]`) are typed by their first
non-null member."""

import re
from dataclasses import dataclass, field
from typing import Any

from app.integrations.tools.base import ToolParameter
from app.integrations.tools.openapi.document import METHODS, SchemaError, resolve

_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")


@dataclass(frozen=True, slots=True)
class Operation:
    operation_id: str
    method: str
    path: str
    description: str
    parameters: tuple[ToolParameter, ...]  # what the tool takes
    http_parameters: tuple[dict[str, Any], ...]  # resolved parameter objects (name, in, …)
    body_type: str | None = None  # the request body's media type (the first declared)
    body_schema: dict[str, Any] = field(default_factory=dict)  # resolved, properties too


def derive_operations(document: dict[str, Any]) -> dict[str, Operation]:
    """The document's operations by tool name (a later duplicate name wins, as in Dify's
    provider, which keeps one tool per name)."""
    found: dict[str, Operation] = {}
    for path, raw_item in document["paths"].items():
        item = resolve(document, raw_item)
        if not isinstance(item, dict):
            continue
        shared = [resolve(document, p) for p in item.get("parameters") or []]
        for method in METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                derived = _operation(document, str(path), method, operation, shared)
                found[derived.operation_id] = derived
    return found


def server_url(document: dict[str, Any]) -> str | None:
    """The first server's URL with its variables at their defaults (None without servers)."""
    servers = document.get("servers") or []
    if not servers or not isinstance(servers[0], dict) or not servers[0].get("url"):
        return None
    url = str(servers[0]["url"])
    for name, variable in (servers[0].get("variables") or {}).items():
        if isinstance(variable, dict) and "default" in variable:
            url = url.replace("{" + str(name) + "}", str(variable["default"]))
    return url


def _operation(
    document: dict[str, Any],
    path: str,
    method: str,
    operation: dict[str, Any],
    shared: list[Any],
) -> Operation:
    own = [resolve(document, p) for p in operation.get("parameters") or []]
    declared = {(p.get("name"), p.get("in")) for p in own if isinstance(p, dict)}
    inherited = [
        p for p in shared if isinstance(p, dict) and (p.get("name"), p.get("in")) not in declared
    ]
    http_parameters = [p for p in [*inherited, *own] if isinstance(p, dict) and "name" in p]
    for p in http_parameters:
        if isinstance(p.get("schema"), dict):
            p["schema"] = resolve(document, p["schema"])
    parameters = [_tool_parameter(p, p.get("schema") or {}) for p in http_parameters]

    body_type, body_schema = _body(document, operation)
    required = body_schema.get("required") or []
    for name, prop in (body_schema.get("properties") or {}).items():
        parameters.append(_tool_parameter({"name": name, "required": name in required}, prop))

    operation_id = operation.get("operationId")
    if not operation_id:
        bare = _UNSAFE.sub("", path[1:] if path.startswith("/") else path) or "<root>"
        operation_id = f"{bare}_{method}"
    description = operation.get("description") or operation.get("summary") or ""
    unique: dict[str, ToolParameter] = {}
    for parameter in parameters:
        unique.setdefault(parameter.name, parameter)
    return Operation(
        operation_id=str(operation_id),
        method=method,
        path=path,
        description=str(description),
        parameters=tuple(unique.values()),
        http_parameters=tuple(http_parameters),
        body_type=body_type,
        body_schema=body_schema,
    )


def _body(document: dict[str, Any], operation: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    body = resolve(document, operation.get("requestBody"))
    if not isinstance(body, dict) or not isinstance(body.get("content"), dict):
        return None, {}
    for media_type, content in body["content"].items():
        if isinstance(content, dict) and "schema" in content:
            schema = _flatten(document, resolve(document, content["schema"]), 0)
            properties = {
                name: _flatten(document, resolve(document, prop), 0)
                for name, prop in (schema.get("properties") or {}).items()
            }
            return str(media_type), {**schema, "properties": properties}
    first = next(iter(body["content"]), None)
    return (str(first), {}) if first else (None, {})


def _flatten(document: dict[str, Any], schema: Any, depth: int) -> dict[str, Any]:
    """A schema with its `allOf` members merged in (its own keys win)."""
    if not isinstance(schema, dict):
        return {}
    if depth > 8 or "allOf" not in schema:
        return schema
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    properties = dict(merged.get("properties") or {})
    required = list(merged.get("required") or [])
    for member in schema["allOf"] or []:
        part = _flatten(document, resolve(document, member), depth + 1)
        for key, value in part.items():
            if key == "properties" and isinstance(value, dict):
                for name, prop in value.items():
                    properties.setdefault(name, prop)
            elif key == "required" and isinstance(value, list):
                required += [r for r in value if r not in required]
            else:
                merged.setdefault(key, value)
    if properties:
        merged["properties"] = properties
    if required:
        merged["required"] = required
    return merged


def _tool_parameter(parameter: dict[str, Any], schema: dict[str, Any]) -> ToolParameter:
    if "name" not in parameter:
        raise SchemaError("a parameter has no `name`")
    description = parameter.get("description") or schema.get("description") or ""
    default = schema.get("default")
    enum = schema.get("enum")
    return ToolParameter(
        name=str(parameter["name"]),
        type=parameter_type(schema),
        required=bool(parameter.get("required", False)),
        description=str(description),
        form="llm",
        options=tuple(str(o) for o in enum) if isinstance(enum, list) else (),
        default=None if isinstance(default, list | dict) else default,
    )


def parameter_type(schema: dict[str, Any]) -> str:
    """Dify's `_get_tool_parameter_type`, with unknown types as string."""
    if schema.get("format") == "binary":
        return "file"
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind in ("integer", "number"):
        return "number"
    if kind == "boolean":
        return "boolean"
    if kind == "array":
        items = schema.get("items")
        return "files" if isinstance(items, dict) and items.get("format") == "binary" else "array"
    return "string"
