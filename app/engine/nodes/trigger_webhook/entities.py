"""A `trigger-webhook` node's data, read as Dify reads it (its `WebhookData`): the method
and content type a call must have, the headers, query parameters and body fields it maps
onto outputs (typed, some required), and the answer a call gets."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.engine.nodes.base import NodeConfigError

METHODS = ("get", "post", "head", "patch", "put", "delete")
JSON = "application/json"
FORM_DATA = "multipart/form-data"
FORM_URLENCODED = "application/x-www-form-urlencoded"
TEXT = "text/plain"
BINARY = "application/octet-stream"
CONTENT_TYPES = (JSON, FORM_DATA, FORM_URLENCODED, TEXT, BINARY)
PARAMETER_TYPES = (
    "string",
    "number",
    "boolean",
    "object",
    "array[string]",
    "array[number]",
    "array[boolean]",
    "array[object]",
    "file",
)


@dataclass(frozen=True, slots=True)
class WebhookParameter:
    name: str
    type: str = "string"
    required: bool = False


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    method: str = "get"  # lower case, as Dify normalises it
    content_type: str = JSON
    headers: tuple[WebhookParameter, ...] = ()
    params: tuple[WebhookParameter, ...] = ()  # query parameters
    body: tuple[WebhookParameter, ...] = ()
    status_code: int = 200
    response_body: str = ""


def _parameters(raw: Any, where: str) -> tuple[WebhookParameter, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise NodeConfigError(f"webhook {where} must be a list")
    found: list[WebhookParameter] = []
    for item in raw:
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise NodeConfigError(f"every webhook {where} entry needs a name")
        kind = item.get("type") or "string"
        if kind not in PARAMETER_TYPES:
            label = "body parameter" if where == "body" else "parameter"
            raise NodeConfigError(f"Unsupported webhook {label} type: {kind}")
        found.append(WebhookParameter(item["name"], str(kind), bool(item.get("required"))))
    return tuple(found)


def _status_code(raw: Any) -> int:
    if raw is None:
        return 200
    try:
        code = int(raw)
    except (TypeError, ValueError):
        raise NodeConfigError(f"webhook status_code {raw!r} is not a number") from None
    if not 100 <= code <= 599:
        raise NodeConfigError(f"webhook status_code {code} is not an HTTP status")
    return code


def read_config(data: Mapping[str, Any]) -> WebhookConfig:
    method = str(data.get("method") or "get").lower()
    if method not in METHODS:
        raise NodeConfigError(f"webhook method {data.get('method')!r} is not one of {METHODS}")
    content_type = str(data.get("content_type") or JSON)
    if content_type not in CONTENT_TYPES:
        raise NodeConfigError(f"webhook content type {content_type!r} is not supported")
    response_body = data.get("response_body")
    return WebhookConfig(
        method=method,
        content_type=content_type,
        headers=_parameters(data.get("headers"), "header"),
        params=_parameters(data.get("params"), "parameter"),
        body=_parameters(data.get("body"), "body"),
        status_code=_status_code(data.get("status_code")),
        response_body=response_body if isinstance(response_body, str) else "",
    )
