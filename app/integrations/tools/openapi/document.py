"""An OpenAPI document as Dify reads one (`ApiBasedToolSchemaParser.auto_parse_to_tool_bundle`):
JSON or YAML text; OpenAPI 3.0/3.1 used as it is; Swagger 2.0 converted to OpenAPI 3 first.

Dify's Swagger conversion keeps operations, parameters and `definitions` but needs a
`servers` list that real Swagger files do not have; Kiln also derives the server from
`schemes`/`host`/`basePath`, turns `in: body` and `in: formData` parameters into a request
body, and points `#/definitions/…` references at their new place, so a Swagger file works as
its author meant it. Only local references (`#/…`) are followed."""

import json
from typing import Any

import yaml

METHODS = ("get", "post", "put", "delete", "patch", "head", "options", "trace")
_MAX_REF_DEPTH = 32


class SchemaError(ValueError):
    """The document cannot be turned into tools; the message says why."""


def parse_document(text: str) -> dict[str, Any]:
    """The OpenAPI 3 document in `text` (JSON or YAML; Swagger 2.0 converted)."""
    content = text.strip()
    loaded: Any = None
    try:
        loaded = json.loads(content)
    except ValueError:
        try:
            loaded = yaml.safe_load(content)
        except yaml.YAMLError as exc:
            raise SchemaError(f"the schema is neither JSON nor YAML: {exc}") from None
    if not isinstance(loaded, dict):
        raise SchemaError("the schema is neither JSON nor YAML describing an object")
    if str(loaded.get("swagger", "")).startswith("2"):
        loaded = _from_swagger(loaded)
    elif not str(loaded.get("openapi", "")).startswith("3"):
        raise SchemaError("not an OpenAPI 3 document (`openapi: 3.x`) nor Swagger 2.0")
    if not isinstance(loaded.get("paths"), dict):
        raise SchemaError("the document has no `paths`")
    return loaded


def resolve(document: dict[str, Any], node: Any) -> Any:
    """`node` with its `$ref` followed (repeatedly) inside `document`."""
    for _ in range(_MAX_REF_DEPTH):
        if not isinstance(node, dict) or "$ref" not in node:
            return node
        node = _pointer(document, node["$ref"])
    raise SchemaError("a `$ref` chain is too long (a reference cycle?)")


def _pointer(document: dict[str, Any], ref: Any) -> Any:
    if not isinstance(ref, str) or not ref.startswith("#"):
        raise SchemaError(f"only local references (`#/…`) are supported, not {ref!r}")
    node: Any = document
    for raw in ref[1:].split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise SchemaError(f"the reference {ref!r} points at nothing")
    return node


def _from_swagger(swagger: dict[str, Any]) -> dict[str, Any]:
    info = swagger.get("info") or {}
    servers = swagger.get("servers") or _swagger_servers(swagger)
    paths = swagger.get("paths")
    if not isinstance(paths, dict) or not paths:
        raise SchemaError("No paths found in the swagger yaml.")
    consumes = swagger.get("consumes") or []
    converted: dict[str, Any] = {}
    for path, item in paths.items():
        if not isinstance(item, dict):
            continue
        common = item.get("parameters") or []
        target: dict[str, Any] = {}
        for method, operation in item.items():
            if method not in METHODS or not isinstance(operation, dict):
                continue
            target[method] = _swagger_operation(
                operation, common, operation.get("consumes") or consumes, swagger
            )
        converted[path] = target
    document: dict[str, Any] = {
        "openapi": "3.0.0",
        "info": {
            "title": info.get("title", "Swagger"),
            "description": info.get("description", "Swagger"),
            "version": info.get("version", "1.0.0"),
        },
        "servers": servers,
        "paths": converted,
        "components": {
            "schemas": swagger.get("definitions") or {},
            "parameters": {
                name: _swagger_parameter(p) for name, p in (swagger.get("parameters") or {}).items()
            },
        },
    }
    return _retarget(document)


def _swagger_servers(swagger: dict[str, Any]) -> list[dict[str, str]]:
    host = swagger.get("host")
    if not host:
        return []
    schemes = swagger.get("schemes") or ["https"]
    return [{"url": f"{schemes[0]}://{host}{swagger.get('basePath', '') or ''}".rstrip("/")}]


def _swagger_operation(
    operation: dict[str, Any], common: list[Any], consumes: list[str], swagger: dict[str, Any]
) -> dict[str, Any]:
    parameters: list[Any] = []
    body: dict[str, Any] | None = None
    form: dict[str, Any] = {}
    form_required: list[str] = []
    multipart = "multipart/form-data" in consumes
    for raw in [*common, *(operation.get("parameters") or [])]:
        parameter = raw
        if isinstance(raw, dict) and "$ref" in raw:
            target = _pointer(swagger, raw["$ref"])
            if not (isinstance(target, dict) and target.get("in") in ("body", "formData")):
                parameters.append(raw)  # a `#/parameters/…` reference, retargeted later
                continue
            parameter = target
        if not isinstance(parameter, dict):
            continue
        where = parameter.get("in")
        if where == "body":
            media = next((c for c in consumes if "json" in c), "application/json")
            body = {
                "required": bool(parameter.get("required")),
                "content": {media: {"schema": parameter.get("schema") or {}}},
            }
        elif where == "formData":
            prop = _swagger_schema(parameter)
            if parameter.get("type") == "file":
                prop = {"type": "string", "format": "binary"}
                multipart = True
            if parameter.get("description"):
                prop["description"] = parameter["description"]
            form[parameter["name"]] = prop
            if parameter.get("required"):
                form_required.append(parameter["name"])
        else:
            parameters.append(_swagger_parameter(parameter))
    converted: dict[str, Any] = {
        "summary": operation.get("summary", ""),
        "description": operation.get("description", ""),
        "parameters": parameters,
        "responses": operation.get("responses", {}),
    }
    if "operationId" in operation:
        converted["operationId"] = operation["operationId"]
    if form:
        media = "multipart/form-data" if multipart else "application/x-www-form-urlencoded"
        schema = {"type": "object", "properties": form, "required": form_required}
        converted["requestBody"] = {"content": {media: {"schema": schema}}}
    elif body is not None:
        converted["requestBody"] = body
    return converted


def _swagger_parameter(parameter: Any) -> Any:
    """A Swagger 2.0 query/path/header parameter with its type moved under `schema`."""
    if not isinstance(parameter, dict) or "schema" in parameter or "$ref" in parameter:
        return parameter
    keep = {k: v for k, v in parameter.items() if k in ("name", "in", "required", "description")}
    keep["schema"] = _swagger_schema(parameter)
    return keep


def _swagger_schema(parameter: dict[str, Any]) -> dict[str, Any]:
    keys = ("type", "format", "default", "enum", "items", "minimum", "maximum")
    return {k: v for k, v in parameter.items() if k in keys}


def _retarget(node: Any) -> Any:
    """Swagger's `#/definitions/X` and `#/parameters/X` as OpenAPI 3 component references."""
    if isinstance(node, dict):
        out = {k: _retarget(v) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str):
            if ref.startswith("#/definitions/"):
                out["$ref"] = "#/components/schemas/" + ref[len("#/definitions/") :]
            elif ref.startswith("#/parameters/"):
                out["$ref"] = "#/components/parameters/" + ref[len("#/parameters/") :]
        return out
    if isinstance(node, list):
        return [_retarget(v) for v in node]
    return node
