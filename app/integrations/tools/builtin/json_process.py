"""Dify's `json_process` provider: parse, json_insert, json_replace, json_delete over JSONPath
(jsonpath-ng, the library the plugin uses). Like the plugin, a bad document or path answers
its error as text rather than failing; results are JSON text (`ensure_ascii` as given)."""

import json
from typing import Any

from jsonpath_ng import parse as jsonpath

from app.integrations.tools.base import ToolCall, ToolOutput
from app.integrations.tools.builtin.base import (
    BuiltinEnv,
    BuiltinProviderDef,
    BuiltinToolDef,
    param,
)
from app.integrations.tools.builtin.params import cast


def _fields(match: Any) -> tuple[Any, ...]:
    """The key (or index) a match sits under in its parent."""
    return tuple(getattr(match.path, "fields", None) or (getattr(match.path, "index", None),))


def _dump(value: Any, ensure_ascii: bool) -> str:
    return json.dumps(value, ensure_ascii=ensure_ascii)


def extract(content: str, json_filter: str, ensure_ascii: bool) -> str:
    try:
        found = [match.value for match in jsonpath(json_filter).find(json.loads(content))]
    except Exception as exc:  # the plugin answers any failure as its text
        return str(exc)
    if not found:
        return ""
    result: Any = found[0] if len(found) == 1 else found
    if isinstance(result, dict | list):
        return _dump(result, ensure_ascii)
    return str(result)


def _create_path(data: Any, query: str, new_value: Any) -> None:
    current = data
    parts = query.strip("$").strip(".").split(".")
    for i, part in enumerate(parts):
        if "[" in part and "]" in part:
            name, index_text = part.split("[")
            index = int(index_text.rstrip("]"))
            items = current.setdefault(name, [])
            while len(items) <= index:
                items.append({})
            current = items[index]
        elif i == len(parts) - 1:
            current[part] = new_value
        else:
            current = current.setdefault(part, {})


def insert(
    content: str,
    query: str,
    new_value: Any,
    ensure_ascii: bool,
    value_decode: bool,
    index: Any = None,
    create_path: bool = False,
) -> str:
    try:
        data = json.loads(content)
        expression = jsonpath(query)
        if value_decode:
            try:
                new_value = json.loads(new_value)
            except json.JSONDecodeError:
                return "Cannot decode new value to json object"
        matches = expression.find(data)
        if not matches and create_path:
            _create_path(data, query, new_value)
        for match in matches:
            if isinstance(match.value, dict):
                if not isinstance(new_value, dict):
                    raise ValueError("Cannot insert non-dict value into dict")
                match.value.update(new_value)
            elif isinstance(match.value, list):
                if index is None or index == "":
                    match.value.append(new_value)
                else:
                    match.value.insert(int(index), new_value)
            else:
                match.full_path.update(data, new_value)
        return _dump(data, ensure_ascii)
    except Exception as exc:
        return str(exc)


def replace(
    content: str,
    query: str,
    model: str,
    pattern: str,
    replace_value: Any,
    ensure_ascii: bool,
    value_decode: bool,
) -> str:
    try:
        data = json.loads(content)
        matches = jsonpath(query).find(data)
        if model == "key":
            for match in matches:
                parent = match.context.value if match.context is not None else None
                old_key = _fields(match)[0]
                targets = [parent] if isinstance(parent, dict) else parent
                for item in targets if isinstance(targets, list) else []:
                    if isinstance(item, dict) and old_key in item:
                        item[replace_value] = item.pop(old_key)
            return _dump(data, ensure_ascii)
        if model == "value" and value_decode:
            try:
                replace_value = json.loads(replace_value)
            except json.JSONDecodeError:
                return "Cannot decode replace value to json object"
        for match in matches:
            new_value = replace_value
            if model == "pattern":
                new_value = match.value.replace(pattern, replace_value)
                if value_decode:
                    try:
                        new_value = json.loads(new_value)
                    except json.JSONDecodeError:
                        return "Cannot decode replace value to json object"
            match.full_path.update(data, new_value)
        return _dump(data, ensure_ascii)
    except Exception as exc:
        return str(exc)


def delete(content: str, query: str, ensure_ascii: bool) -> str:
    data = json.loads(content)
    matches = jsonpath("$." + query.lstrip("$.")).find(data)
    for match in matches:
        parent = match.context.value if match.context is not None else None
        if isinstance(parent, dict):
            del parent[_fields(match)[-1]]
        elif isinstance(parent, list):
            parent.remove(match.value)
    return _dump(data, ensure_ascii)


def _flag(args: dict[str, Any], name: str, default: bool) -> bool:
    value = args.get(name)
    return default if value is None else bool(cast("boolean", value))


async def parse_tool(args: dict[str, Any], env: BuiltinEnv, call: ToolCall) -> ToolOutput:
    content, json_filter = args.get("content") or "", args.get("json_filter") or ""
    if not content:
        return ToolOutput(text="Invalid parameter content")
    if not json_filter:
        return ToolOutput(text="Invalid parameter json_filter")
    return ToolOutput(text=extract(content, json_filter, _flag(args, "ensure_ascii", True)))


async def insert_tool(args: dict[str, Any], env: BuiltinEnv, call: ToolCall) -> ToolOutput:
    for name in ("content", "query", "new_value"):
        if not args.get(name):
            return ToolOutput(text=f"Invalid parameter {name}")
    text = insert(
        args["content"],
        args["query"],
        args["new_value"],
        _flag(args, "ensure_ascii", True),
        _flag(args, "value_decode", False),
        args.get("index"),
        _flag(args, "create_path", False),
    )
    return ToolOutput(text=text)


async def replace_tool(args: dict[str, Any], env: BuiltinEnv, call: ToolCall) -> ToolOutput:
    for name in ("content", "query", "replace_value", "replace_model"):
        if not args.get(name):
            return ToolOutput(text=f"Invalid parameter {name}")
    model = args["replace_model"]
    if model == "pattern" and not args.get("replace_pattern"):
        return ToolOutput(text="Invalid parameter replace_pattern")
    text = replace(
        args["content"],
        args["query"],
        model,
        args.get("replace_pattern") or "",
        args["replace_value"],
        _flag(args, "ensure_ascii", True),
        _flag(args, "value_decode", False),
    )
    return ToolOutput(text=text)


async def delete_tool(args: dict[str, Any], env: BuiltinEnv, call: ToolCall) -> ToolOutput:
    for name in ("content", "query"):
        if not args.get(name):
            return ToolOutput(text=f"Invalid parameter {name}")
    try:
        text = delete(args["content"], args["query"], _flag(args, "ensure_ascii", True))
    except Exception as exc:
        return ToolOutput(text=f"Failed to delete JSON content: Delete operation failed: {exc}")
    return ToolOutput(text=text)


_CONTENT = param("content", required=True, description="JSON content")
_QUERY = param("query", required=True, description="JSONPath query")
_ASCII = param("ensure_ascii", "boolean", form="form", default=True)
_DECODE = param("value_decode", "boolean", form="form", default=False)

PROVIDER = BuiltinProviderDef(
    name="json_process",
    label="JSON Process",
    tools=(
        BuiltinToolDef(
            "parse",
            "JSON Parse",
            "A tool for extracting JSON objects",
            (_CONTENT, param("json_filter", required=True, description="JSON filter"), _ASCII),
            parse_tool,
        ),
        BuiltinToolDef(
            "json_insert",
            "JSON Insert",
            "A tool for inserting JSON content",
            (
                _CONTENT,
                _QUERY,
                param("new_value", required=True, description="New value"),
                _DECODE,
                param(
                    "create_path",
                    "select",
                    required=True,
                    form="form",
                    options=("True", "False"),
                    default="False",
                ),
                _ASCII,
            ),
            insert_tool,
        ),
        BuiltinToolDef(
            "json_replace",
            "JSON Replace",
            "A tool for replacing JSON content",
            (
                _CONTENT,
                _QUERY,
                param("replace_pattern", description="Replace pattern"),
                param("replace_value", required=True, description="Replace value"),
                _DECODE,
                param(
                    "replace_model",
                    "select",
                    required=True,
                    form="form",
                    options=("key", "value", "pattern"),
                    default="pattern",
                ),
                _ASCII,
            ),
            replace_tool,
        ),
        BuiltinToolDef(
            "json_delete",
            "JSON Delete",
            "A tool for deleting JSON content",
            (_CONTENT, _QUERY, _ASCII),
            delete_tool,
        ),
    ),
)
