"""Dify's `jina` provider, its jina_reader tool. With a key in
`tools.credentials.jina.api_key` it calls Jina Reader (`GET {base_url}/<url>`, base_url
https://r.jina.ai by default) with the plugin's headers and answers the reply's text, as
the plugin does. Without a key Kiln reads the page itself through the SSRF guard and
answers the same JSON shape Jina gives (`{code, status, data: {title, url, content}}`),
content being the readable text of the page — say so to users: it is not Jina's markdown.
`summary` needs a summary model Kiln does not have and is ignored."""

import json
from typing import Any

from app.integrations.tools.base import ToolCall, ToolError, ToolOutput, ToolParameter
from app.integrations.tools.builtin.base import (
    BuiltinEnv,
    BuiltinProviderDef,
    BuiltinToolDef,
    param,
)
from app.integrations.tools.builtin.readable import decode_page, read_article
from app.integrations.tools.builtin.web import BROWSER_AGENT, send
from app.integrations.tools.builtin.webscraper import TEXT_TYPES

READER = "https://r.jina.ai"
_HEADER_FLAGS = (
    ("remove_images", "X-Retain-Images", "none"),
    ("image_caption", "X-With-Generated-Alt", "true"),
    ("gather_all_links_at_the_end", "X-With-Links-Summary", "true"),
    ("gather_all_images_at_the_end", "X-With-Images-Summary", "true"),
    ("no_cache", "X-No-Cache", "true"),
    ("no_cache_track", "DNT", "1"),
)
_HEADER_TEXTS = (
    ("target_selector", "X-Target-Selector"),
    ("wait_for_selector", "X-Wait-For-Selector"),
    ("proxy_server", "X-Proxy-Url"),
)


def reader_headers(args: dict[str, Any], api_key: str) -> dict[str, str]:
    headers = {"Accept": "application/json", "Authorization": f"Bearer {api_key}"}
    for name, header in _HEADER_TEXTS:
        if args.get(name):
            headers[header] = str(args[name])
    for name, header, value in _HEADER_FLAGS:
        if args.get(name):
            headers[header] = value
    content_format = args.get("content_format")
    if content_format and content_format != "default":
        headers["X-Return-Format"] = str(content_format)
    return headers


def request_params(args: dict[str, Any]) -> list[tuple[str, str]]:
    raw = args.get("request_params")
    if raw is None or raw == "":
        return []
    try:
        found = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as exc:
        raise ToolError(f"Invalid request_params: {exc}") from None
    if not isinstance(found, dict):
        raise ToolError("Invalid request_params: request_params must be a JSON object")
    return [(str(k), str(v)) for k, v in found.items()]


async def _native(env: BuiltinEnv, url: str) -> str:
    reply = await send(env, "GET", url, headers={"User-Agent": BROWSER_AGENT})
    main_type = reply.content_type.split(";")[0].strip().lower()
    text = decode_page(reply.content, reply.content_type)
    if main_type in TEXT_TYPES:
        title, content = None, text
    else:
        article = read_article(text)
        title, content = article.title, article.text
    data = {"title": title or "", "url": url, "content": content}
    body = {"code": reply.status_code, "status": 20000 if reply.status_code == 200 else 0}
    return json.dumps({**body, "data": data}, ensure_ascii=False)


async def jina_reader(args: dict[str, Any], env: BuiltinEnv, call: ToolCall) -> ToolOutput:
    url = str(args.get("url") or "")
    if not url:
        raise ToolError("url is required")
    api_key = env.credentials.get("api_key")
    if not api_key:
        return ToolOutput(text=await _native(env, url))
    base = (env.credentials.get("base_url") or READER).rstrip("/")
    reply = await send(
        env,
        "GET",
        f"{base}/{url}",
        headers=reader_headers(args, api_key),
        params=request_params(args),
    )
    return ToolOutput(text=decode_page(reply.content, reply.content_type))


def _flag(name: str) -> ToolParameter:
    return param(name, "boolean", form="form", default=False)


PROVIDER = BuiltinProviderDef(
    name="jina",
    label="Jina AI",
    tools=(
        BuiltinToolDef(
            "jina_reader",
            "JinaReader",
            "A tool for scraping webpages. Input should be a URL.",
            (
                param("url", required=True, description="url for scraping"),
                param("request_params", description="request parameters, a JSON object"),
                param("target_selector", form="form"),
                param("wait_for_selector", form="form"),
                param("remove_images", "boolean", form="form"),
                _flag("image_caption"),
                _flag("gather_all_links_at_the_end"),
                _flag("gather_all_images_at_the_end"),
                param("proxy_server", form="form"),
                _flag("no_cache"),
                _flag("no_cache_track"),
                _flag("summary"),
                param("max_retries", "number", form="form", default=3),
                param(
                    "content_format",
                    "select",
                    form="form",
                    options=("default", "markdown", "html", "text", "screenshot", "pageshot"),
                    default="default",
                ),
            ),
            jina_reader,
        ),
    ),
)
