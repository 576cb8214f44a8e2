"""The HTTP request of one OpenAPI tool call, placed as Dify's `ApiTool.do_http_request`
places it:

- a missing required tool parameter takes its default, else the call fails ("Missing
  required parameter X");
- path parameters replace `{name}` in the path; query parameters go to the query string
  unless empty; header parameters become headers; cookie parameters one `Cookie` header;
  an absent optional parameter takes its schema default (or empty);
- request-body properties go into a body of the first declared media type: given values
  converted to the property's type (a JSON string for an object or array property is
  parsed), absent ones their default or left out (a required one fails the call); JSON
  for `application/json` (and `+json` types), form-encoded for
  `application/x-www-form-urlencoded` (and, as httpx sends a dict, any other type),
  multipart with boundary for `multipart/form-data` (binary properties as file parts);
- the operator's auth: `bearer` and `basic` as an `Authorization` header, `api_key` as a
  header (`prefix` before the key) or a query parameter (`query_param`).

Path values are percent-encoded (Dify inserts them raw), booleans are written
`true`/`false` in paths, queries and headers alike, and an absent optional header or cookie
parameter without a default is left out (Dify sends it empty, which would also override
the operator's `headers`). File parameters take ToolFile values with their bytes."""

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from app.integrations.config import ApiAuth
from app.integrations.tools.base import ToolError, ToolFile
from app.integrations.tools.openapi.operations import Operation

_PATH_SAFE = "-._~!$&'()*+,;=:@"


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    method: str
    url: str
    headers: dict[str, str]
    params: list[tuple[str, str]]
    content: bytes | None


def prepare(
    operation: Operation,
    base_url: str,
    arguments: dict[str, Any],
    auth: ApiAuth,
    static_headers: dict[str, str],
) -> PreparedRequest:
    values = dict(arguments)
    for parameter in operation.parameters:
        if parameter.required and parameter.name not in values:
            if parameter.default is None:
                raise ToolError(f"Missing required parameter {parameter.name}")
            values[parameter.name] = parameter.default

    headers = dict(static_headers)
    params: list[tuple[str, str]] = []
    _authorize(auth, headers, params)

    path = operation.path
    cookies: list[str] = []
    for declared in operation.http_parameters:
        name = str(declared["name"])
        where = declared.get("in")
        if name in values:
            value = values[name]
        elif declared.get("required"):
            raise ToolError(f"Missing required parameter {name}")
        else:
            value = (declared.get("schema") or {}).get("default", "")
        if where == "path":
            path = path.replace("{" + name + "}", quote(_text(value), safe=_PATH_SAFE))
        elif where == "query":
            if value != "" and value is not None:
                items = value if isinstance(value, list) else [value]
                params += [(name, _text(item)) for item in items]
        elif name not in values and value == "":
            continue  # no empty header or cookie for an absent optional parameter
        elif where == "cookie":
            cookies.append(f"{name}={_text(value)}")
        elif where == "header":
            headers[name] = _text(value)
    if cookies:
        headers["Cookie"] = "; ".join(cookies)

    content = _body(operation, values, headers)
    return PreparedRequest(
        method=operation.method.upper(),
        url=base_url.rstrip("/") + path if path.startswith("/") else base_url + path,
        headers=headers,
        params=params,
        content=content,
    )


def _authorize(auth: ApiAuth, headers: dict[str, str], params: list[tuple[str, str]]) -> None:
    if auth.type == "bearer" and auth.token:
        headers["Authorization"] = f"Bearer {auth.token}"
    elif auth.type == "basic" and auth.username is not None:
        pair = f"{auth.username}:{auth.password or ''}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    elif auth.type == "api_key" and auth.key:
        if auth.query_param:
            params.append((auth.query_param, auth.key))
        else:
            prefix = auth.prefix
            if prefix and not prefix.endswith(" "):
                prefix += " "
            headers[auth.header or "Authorization"] = prefix + auth.key


def _body(operation: Operation, values: dict[str, Any], headers: dict[str, str]) -> bytes | None:
    if operation.body_type is None:
        return None
    media = operation.body_type
    headers["Content-Type"] = media
    schema = operation.body_schema
    required = schema.get("required") or []
    body: dict[str, Any] = {}
    files: list[tuple[str, ToolFile]] = []
    for name, prop in (schema.get("properties") or {}).items():
        if name in values:
            if _is_binary(prop):
                files += [(name, f) for f in _files(name, values[name])]
            else:
                body[name] = convert(prop, values[name])
        elif name in required:
            raise ToolError(
                f"Missing required parameter {name} in operation {operation.operation_id}"
            )
        elif "default" in prop:
            body[name] = prop["default"]
    kind = media.split(";", 1)[0].strip().lower()
    if kind == "multipart/form-data" or files:
        boundary = uuid.uuid4().hex
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        return _multipart(boundary, body, files)
    if kind == "application/json" or kind.endswith("+json"):
        return json.dumps(body).encode()
    return urlencode({k: _form_value(v) for k, v in body.items()}, doseq=True).encode()


def convert(prop: dict[str, Any], value: Any) -> Any:
    """A body value as its property's type (Dify's `_convert_body_property_type`; a value
    that does not convert is sent as given)."""
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    try:
        if kind in ("integer", "int"):
            return int(value)
        if kind == "number":
            return float(value) if "." in str(value) else int(value)
        if kind == "string":
            return value if isinstance(value, str) else _text(value)
        if kind == "boolean":
            if isinstance(value, str):
                return value.strip().lower() not in ("false", "0", "", "no", "off")
            return bool(value)
        if kind in ("object", "array") and isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        if kind is None and isinstance(prop.get("anyOf"), list):
            for option in prop["anyOf"]:
                if isinstance(option, dict) and option.get("type") not in (None, "null"):
                    return convert(option, value)
    except (TypeError, ValueError):
        return value
    return value


def _is_binary(prop: dict[str, Any]) -> bool:
    items = prop.get("items")
    return prop.get("format") == "binary" or (
        prop.get("type") == "array" and isinstance(items, dict) and items.get("format") == "binary"
    )


def _files(name: str, value: Any) -> list[ToolFile]:
    items = value if isinstance(value, list | tuple) else [value]
    found = [item for item in items if isinstance(item, ToolFile) and item.content is not None]
    if len(found) != len(items):
        raise ToolError(f"Parameter {name} must be a file with its content")
    return found


def _text(value: Any) -> str:
    """A parameter value as text, as httpx writes query values."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _form_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_text(v) for v in value]
    return _text(value)


def _multipart(boundary: str, fields: dict[str, Any], files: list[tuple[str, ToolFile]]) -> bytes:
    parts: list[bytes] = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"\r\n\r\n'
            parts.append(head.encode() + _text(item).encode() + b"\r\n")
    for name, file in files:
        filename = file.filename or "file"
        head = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{_quoted(name)}"; '
            f'filename="{_quoted(filename)}"\r\n'
            f"Content-Type: {file.mime_type or 'application/octet-stream'}\r\n\r\n"
        )
        parts.append(head.encode() + (file.content or b"") + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts)


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "%22").replace("\r", "").replace("\n", "")
