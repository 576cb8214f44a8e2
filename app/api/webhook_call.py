"""A webhook call read as Dify's webhook service reads the Flask request: headers as
Werkzeug names them, the first value of each query parameter, and the body by the
request's own content type (absent: JSON): a JSON object, form fields, multipart fields
and files (parts with a file name), an octet-stream body as one file, anything else as
text. A body that cannot be read is reported, not raised: the webhook's existence is
checked first, as Dify does."""

import mimetypes
from urllib.parse import parse_qsl

import orjson
from fastapi import Request
from starlette.datastructures import UploadFile

from app.api.middleware import is_head
from app.core.config import Settings
from app.core.errors import DifyError
from app.core.json_depth import check_depth
from app.engine.nodes.trigger_webhook.entities import BINARY, FORM_DATA, FORM_URLENCODED, JSON
from app.engine.nodes.trigger_webhook.request import PendingFile, WebhookCall


def _headers(request: Request) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in request.headers.items():
        title = name.title()  # Werkzeug's spelling: `x-api-key` → `X-Api-Key`
        found[title] = f"{found[title]}, {value}" if title in found else value
    return found


def _first_values(pairs: list[tuple[str, str]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in pairs:
        found.setdefault(name, value)
    return found


def content_type_of(headers: dict[str, str]) -> str:
    raw = headers.get("Content-Type") or JSON
    return raw.lower().split(";")[0].strip()


async def read_call(request: Request, settings: Settings) -> tuple[WebhookCall, str | None]:
    """The call, and why its body cannot be read (None when it can)."""
    headers = _headers(request)
    call = WebhookCall(
        method="HEAD" if is_head(request.scope) else request.method.upper(),
        headers=headers,
        query_params=_first_values(request.query_params.multi_items()),
        content_type=content_type_of(headers),
    )
    raw = await request.body()
    try:
        if call.content_type == JSON:
            call.body = _json(raw)
        elif call.content_type == FORM_URLENCODED:
            text = raw.decode("utf-8", errors="replace")
            call.body = _first_values(parse_qsl(text, keep_blank_values=True))
        elif call.content_type == FORM_DATA:
            await _multipart(request, call, settings.webhook_request_body_max_size)
        elif call.content_type == BINARY:
            content = PendingFile("", BINARY, raw) if raw else None
            call.body = {"raw": content}
        else:  # text/plain, and any type Dify does not know, is text
            call.body = {"raw": raw.decode("utf-8", errors="replace")}
    except _Unreadable as exc:
        return call, str(exc)
    return call, None


class _Unreadable(ValueError):
    pass


def _json(raw: bytes) -> dict[str, object]:
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _Unreadable(f"Invalid JSON body: {exc}") from None
    if not isinstance(body, dict):
        raise _Unreadable("Invalid JSON body: expected a JSON object")
    try:
        check_depth(body)
    except DifyError as exc:
        raise _Unreadable(exc.message) from None
    return body


async def _multipart(request: Request, call: WebhookCall, limit: int) -> None:
    try:
        form = await request.form(max_part_size=limit)
    except Exception as exc:  # Starlette's parser: a malformed body
        raise _Unreadable(f"Invalid multipart body: {getattr(exc, 'detail', exc)}") from None
    fields: dict[str, str] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            if value.filename and name not in call.files:
                mime = value.content_type or mimetypes.guess_type(value.filename)[0]
                content = await value.read()
                call.files[name] = PendingFile(value.filename, mime or BINARY, content)
        else:
            fields.setdefault(name, value)
    await form.close()
    call.body = fields
