"""Web requests of builtin tools, always through the SSRF guard (the environment's client),
capped in size and time; failures become ToolErrors whose text is safe to show."""

import json
from typing import Any

from app.integrations.tools.base import ToolError
from app.integrations.tools.builtin.base import BuiltinEnv
from app.net.fetch import FetchError
from app.net.http_node import HttpReply

BROWSER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/91.0.4472.124 Safari/537.36"
)


async def send(
    env: BuiltinEnv,
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    data: dict[str, str] | None = None,
    params: list[tuple[str, str]] | None = None,
) -> HttpReply:
    if env.http is None:
        raise ToolError("this tool needs outbound HTTP, which this process does not have")
    timeout = env.fetch_timeout
    try:
        return await env.http.request(
            method,
            url,
            headers=dict(headers or {}),
            params=list(params or []),
            content=content,
            files=None,
            data=data,
            timeouts=(min(10.0, timeout), timeout, min(20.0, timeout)),
            max_size=env.fetch_max_bytes,
            verify=True,
        )
    except FetchError as exc:
        raise ToolError(f"Request to {url} failed: {exc}") from None


async def post_json(
    env: BuiltinEnv, url: str, body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, Any]:
    """(status, decoded JSON or the text when it is not JSON) of a JSON POST."""
    reply = await send(
        env,
        "POST",
        url,
        headers={"Content-Type": "application/json", **headers},
        content=json.dumps(body, ensure_ascii=False).encode(),
    )
    text = reply.content.decode("utf-8", "replace")
    try:
        return reply.status_code, json.loads(text)
    except ValueError:
        return reply.status_code, text


def api_error(service: str, status: int, payload: Any) -> ToolError:
    """A service's error answer, with its own message where it gives one."""
    detail = payload
    if isinstance(payload, dict):
        inner = payload.get("detail") or payload.get("error") or payload.get("message")
        if isinstance(inner, dict):
            inner = inner.get("error") or inner.get("message") or inner
        detail = inner if inner else payload
    return ToolError(f"{service} answered HTTP {status}: {str(detail)[:500]}")
