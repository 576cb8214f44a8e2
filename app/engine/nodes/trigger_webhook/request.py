"""A call to a webhook, checked against its node as Dify's webhook service checks it: the
method, then the content type, then required headers, query parameters converted from
text, body fields checked (JSON) or converted (forms) by their declared type. A rejected
call gets Dify's message; nothing about it is stored."""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from app.engine.nodes.trigger_webhook.entities import (
    BINARY,
    FORM_DATA,
    FORM_URLENCODED,
    TEXT,
    WebhookConfig,
    WebhookParameter,
)


class WebhookRejected(ValueError):
    """The call does not match its node: Dify answers 400 with this message."""


@dataclass(frozen=True, slots=True)
class PendingFile:
    """A file that came with a call; it is stored only once the call is accepted."""

    filename: str
    mime_type: str
    content: bytes = field(repr=False)


@dataclass(slots=True)
class WebhookCall:
    """What arrived, as Dify extracts it: the body read by the request's own content type
    (JSON object; form fields; `{"raw": text}`; `{"raw": file}`), files by form field."""

    method: str  # upper case
    headers: dict[str, str]  # names as Werkzeug spells them (`X-Api-Key`)
    query_params: dict[str, str]
    content_type: str  # main type, lower case (`application/json` when the header is absent)
    body: dict[str, Any] = field(default_factory=dict)
    files: dict[str, PendingFile] = field(default_factory=dict)

    def data(self) -> dict[str, Any]:
        """Dify's `webhook_data` mapping (what the node reads and `_webhook_raw` shows)."""
        return {
            "method": self.method,
            "headers": dict(self.headers),
            "query_params": dict(self.query_params),
            "body": dict(self.body),
            "files": dict(self.files),
        }


def sanitized(name: str) -> str:
    """Header and parameter names as workflow variables (`X-Api-Key` → `X_Api_Key`)."""
    return name.replace("-", "_")


def accept(config: WebhookConfig, call: WebhookCall) -> WebhookCall:
    """The call with its parameters converted, or WebhookRejected."""
    expected, got = config.method.upper(), call.method.upper()
    if expected != got:
        raise WebhookRejected(f"HTTP method mismatch. Expected {expected}, got {got}")
    if config.content_type != call.content_type:
        raise WebhookRejected(
            f"Content-type mismatch. Expected {config.content_type}, got {call.content_type}"
        )
    _check_headers(call.headers, config.headers)
    query = _parameters(call.query_params, config.params, from_text=True)
    body = _body(call.body, config)
    return replace(call, query_params=query, body=body)


def _check_headers(headers: Mapping[str, str], wanted: tuple[WebhookParameter, ...]) -> None:
    lower = {name.lower() for name in headers}
    clean = {sanitized(name).lower() for name in headers}
    for header in wanted:
        if not header.required:
            continue
        if header.name.lower() not in lower and sanitized(header.name).lower() not in clean:
            raise WebhookRejected(f"Required header missing: {header.name}")


def _parameters(
    raw: Mapping[str, Any], wanted: tuple[WebhookParameter, ...], *, from_text: bool
) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for parameter in wanted:
        if parameter.required and parameter.name not in raw:
            raise WebhookRejected(f"Required parameter missing: {parameter.name}")
        if parameter.name in raw:
            found[parameter.name] = _typed(parameter, raw[parameter.name], from_text)
    declared = {p.name for p in wanted}
    found.update({name: value for name, value in raw.items() if name not in declared})
    return found


def _body(raw: Mapping[str, Any], config: WebhookConfig) -> dict[str, Any]:
    if config.content_type in (TEXT, BINARY):
        # The whole body is one value: only its presence can be required.
        if any(p.required for p in config.body) and not raw.get("raw"):
            kind = config.content_type
            raise WebhookRejected(f"Required body content missing for {kind} request")
        return dict(raw)
    from_text = config.content_type in (FORM_URLENCODED, FORM_DATA)
    found: dict[str, Any] = {}
    for parameter in config.body:
        if parameter.type == "file" and config.content_type == FORM_DATA:
            continue  # a form's files travel apart from its fields
        if parameter.required and parameter.name not in raw:
            raise WebhookRejected(f"Required body parameter missing: {parameter.name}")
        if parameter.name in raw:
            found[parameter.name] = _typed(parameter, raw[parameter.name], from_text)
    declared = {p.name for p in config.body}
    found.update({name: value for name, value in raw.items() if name not in declared})
    return found


def _typed(parameter: WebhookParameter, value: Any, from_text: bool) -> Any:
    try:
        return _from_text(parameter, value) if from_text else _checked(parameter, value)
    except ValueError as exc:
        raise WebhookRejected(f"Parameter '{parameter.name}' validation failed: {exc}") from None


_BOOLEANS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


def _from_text(parameter: WebhookParameter, value: str) -> Any:
    """Query and form values arrive as text: strings, numbers and booleans convert."""
    if parameter.type == "string":
        return value
    if parameter.type == "number":
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"Cannot convert '{value}' to number") from None
        return int(number) if math.isfinite(number) and number.is_integer() else number
    if parameter.type == "boolean":
        if value.lower() not in _BOOLEANS:
            raise ValueError(f"Cannot convert '{value}' to boolean")
        return _BOOLEANS[value.lower()]
    raise ValueError(
        f"Unsupported type '{parameter.type}' for form data parameter '{parameter.name}'"
    )


_LABELS = {
    "array[string]": "array of strings",
    "array[number]": "array of numbers",
    "array[boolean]": "array of booleans",
    "array[object]": "array of objects",
}


def _is(kind: str, value: Any) -> bool:
    """Dify's segment type check (a bool counts as a number, as in Python)."""
    if kind.startswith("array["):
        element = kind[len("array[") : -1]
        return isinstance(value, list) and all(_is(element, item) for item in value)
    if kind == "string":
        return isinstance(value, str)
    if kind == "number":
        return isinstance(value, int | float)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    return False  # a file never arrives inside JSON


def _checked(parameter: WebhookParameter, value: Any) -> Any:
    """JSON values keep their type, which must be the declared one."""
    if not _is(parameter.type, value):
        expected = _LABELS.get(parameter.type, parameter.type)
        raise ValueError(f"Expected {expected}, got {type(value).__name__}")
    return value
