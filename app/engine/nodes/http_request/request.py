"""The request an http-request node sends, built from its config and the pool as Dify
builds it: templates rendered in the url, header text, param keys and values, body items
and the api key; `key:value` lines split on the first colon; the body encoded per type;
the api-key header added; a default Content-Type per body type. Also the request as Dify
logs it (`process_data.request`), with the api-key header masked."""

import base64
import json
import secrets
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlparse

from app.engine.nodes.base import NodeError
from app.engine.nodes.http_request.entities import Body, BodyItem, HttpRequestConfig
from app.engine.variables.pool import VariablePool
from app.engine.variables.templates import render
from app.engine.variables.values import FileValue

CONTENT_TYPES = {
    "json": "application/json",
    "x-www-form-urlencoded": "application/x-www-form-urlencoded",
    "form-data": "multipart/form-data",
    "raw-text": "text/plain",
}
# A form-data body without files is still sent as multipart (Dify's placeholder part).
PLACEHOLDER = ("__multipart_placeholder__", ("", b"", "application/octet-stream"))
FileReader = Callable[[FileValue], Awaitable[bytes]]
FileField = tuple[str, tuple[str, bytes, str]]


@dataclass(slots=True)
class PreparedRequest:
    method: str  # upper case
    url: str
    headers: dict[str, str]
    params: list[tuple[str, str]] = field(default_factory=list)
    content: bytes | None = None
    data: dict[str, str] | None = None
    files: list[FileField] | None = None
    log_body: str = ""  # the body as Dify's request log shows it
    form_files: list[tuple[str, FileValue, int]] = field(default_factory=list)


def fail(message: str, error_type: str) -> NodeError:
    return NodeError(message, error_type)


def parse_lines(text: str) -> dict[str, str]:
    """`key:value` lines → a mapping (no colon: an empty value; blank lines skipped)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, _, value = line.partition(":")
        if key.strip():
            found[key.strip()] = value.strip()
    return found


def _params(text: str, pool: VariablePool) -> list[tuple[str, str]]:
    """Params are split before rendering (a value may render to several lines) and may
    repeat a key."""
    found: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not (line := line.strip()):
            continue
        key, _, value = line.partition(":")
        if key := key.strip():
            found.append((render(key, pool), render(value.strip(), pool)))
    return found


def _auth_headers(config: HttpRequestConfig, pool: VariablePool) -> dict[str, str]:
    auth = config.authorization
    if auth.kind is None:
        return {}
    key = render(auth.api_key, pool)
    if not key.strip():
        raise fail(
            "API key is required for authorization but was empty. Please provide a valid API key.",
            "AuthorizationConfigError",
        )
    if auth.kind == "bearer":
        return {auth.header_name: f"Bearer {key}"}
    if auth.kind == "basic":
        # `user:password` is encoded as Basic auth wants; anything else is taken as given.
        encoded = base64.b64encode(key.encode()).decode() if ":" in key else key
        return {auth.header_name: f"Basic {encoded}"}
    return {auth.header_name: key}


def _single(body: Body) -> BodyItem:
    if len(body.items) != 1:
        raise fail(f"{body.type} body type should have exactly one item", "RequestBodyError")
    return body.items[0]


async def _read(file: FileValue, read_file: FileReader | None) -> bytes:
    if read_file is None:
        raise fail(
            f"cannot read file {file.filename!r}: this run has no file access", "FileFetchError"
        )
    try:
        return await read_file(file)
    except Exception as exc:  # noqa: BLE001 - whatever the reader raises fails the node
        raise fail(f"cannot read file {file.filename!r}: {exc}", "FileFetchError") from None


async def _body(
    body: Body, pool: VariablePool, read_file: FileReader | None, request: PreparedRequest
) -> None:
    if body.type == "raw-text":
        text = render(_single(body).value, pool)
        request.content, request.log_body = text.encode("utf-8"), text
    elif body.type == "json":
        text = render(_single(body).value, pool)
        try:
            value = json.loads(text, strict=False)
        except json.JSONDecodeError:
            raise fail(f"Failed to parse JSON: {text}", "RequestBodyError") from None
        encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        request.content, request.log_body = encoded.encode("utf-8"), text
    elif body.type == "binary":
        selector = _single(body).file
        file = pool.lookup(selector)
        if not isinstance(file, FileValue):
            raise fail(f"cannot fetch file with selector {list(selector)}", "FileFetchError")
        request.content = await _read(file, read_file)
        request.log_body = f"<binary_content: size={len(request.content)} bytes>"
    elif body.type == "x-www-form-urlencoded":
        request.data = {render(i.key, pool): render(i.value, pool) for i in body.items}
        request.log_body = urlencode(request.data)
    elif body.type == "form-data":
        await _form_data(body, pool, read_file, request)


async def _form_data(
    body: Body, pool: VariablePool, read_file: FileReader | None, request: PreparedRequest
) -> None:
    request.data = {
        render(i.key, pool): render(i.value, pool) for i in body.items if i.type == "text"
    }
    files: list[FileField] = []
    for item in body.items:
        if item.type != "file":
            continue
        key = render(item.key, pool)
        value = pool.lookup(item.file)
        found = value if isinstance(value, list) else [value]
        for file in found:
            if isinstance(file, FileValue):
                content = await _read(file, read_file)
                mime = file.mime_type or "application/octet-stream"
                files.append((key, (file.filename, content, mime)))
                request.form_files.append((key, file, len(content)))
    request.files = files or [PLACEHOLDER]


async def prepare(
    config: HttpRequestConfig, pool: VariablePool, read_file: FileReader | None
) -> PreparedRequest:
    auth = _auth_headers(config, pool)
    url = render(config.url, pool)
    if not url:
        raise fail("url is required", "InvalidURLError")
    if not url.startswith(("http://", "https://")):
        raise fail("url should start with http:// or https://", "InvalidURLError")
    request = PreparedRequest(
        method=config.method.upper(),
        url=url,
        headers=parse_lines(render(config.headers, pool)),
        params=_params(config.params, pool),
    )
    body = config.body
    if body is not None:
        await _body(body, pool, read_file, request)
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _lower(auth)}
    headers.update(auth)
    if body is not None and body.type == "form-data":  # the multipart encoder sets it
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    elif body is not None and body.type in CONTENT_TYPES and "content-type" not in _lower(headers):
        headers["Content-Type"] = CONTENT_TYPES[body.type]
    request.headers = headers
    return request


def _lower(headers: dict[str, str]) -> set[str]:
    return {key.lower() for key in headers}


def request_log(request: PreparedRequest, config: HttpRequestConfig) -> str:
    """The raw request as Dify's `process_data.request` shows it."""
    parts = urlparse(request.url)
    path = parts.path or "/"
    if request.params:
        path += f"?{urlencode(request.params)}"
    elif parts.query:
        path += f"?{parts.query}"
    lines = [f"{request.method} {path} HTTP/1.1", f"Host: {parts.netloc}"]
    headers = dict(request.headers)
    boundary = "----WebKitFormBoundary" + "".join(
        secrets.choice(string.ascii_lowercase) for _ in range(16)
    )
    body_type = config.body.type if config.body is not None else None
    if body_type == "form-data":
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    masked = config.authorization.header_name.lower() if config.authorization.kind else None
    for key, value in headers.items():
        lines.append(f"{key}: {'*' * len(value) if key.lower() == masked else value}")
    body = _form_log(request, boundary) if body_type == "form-data" else request.log_body
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return "\r\n".join(lines) + "\r\n\r\n" + body


def _form_log(request: PreparedRequest, boundary: str) -> str:
    text = ""
    if request.form_files:
        for key, file, size in request.form_files:
            text += f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
            text += (
                f"<file_content_binary: '{file.filename or 'unknown'}', "
                f"type='{file.mime_type or 'application/octet-stream'}', size={size} bytes>\r\n"
            )
    elif request.data:
        for key, value in request.data.items():
            text += f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
            text += f"{value}\r\n"
    else:
        return ""
    return text + f"--{boundary}--\r\n"
