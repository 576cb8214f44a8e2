"""Dify's `duckduckgo` provider, its ddgo_search tool, with no key: DuckDuckGo's HTML
endpoint (`POST {base_url}/html/`, base_url https://html.duckduckgo.com by default,
overridable in `tools.credentials.duckduckgo.base_url`) read through the SSRF guard, each
result answered as one JSON message `{title, href, body}` as the plugin does (text stays
empty). Ads are skipped. `proxy_server` is not honoured (requests go out only through the
guard) and `require_summary` needs a summary model Kiln does not have."""

from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import lxml.html
from lxml.etree import ParserError

from app.integrations.tools.base import ToolCall, ToolError, ToolOutput
from app.integrations.tools.builtin.base import (
    BuiltinEnv,
    BuiltinProviderDef,
    BuiltinToolDef,
    param,
)
from app.integrations.tools.builtin.readable import decode_page
from app.integrations.tools.builtin.web import BROWSER_AGENT, send

BASE_URL = "https://html.duckduckgo.com"
_RESULT = (
    '//div[contains(concat(" ", normalize-space(@class), " "), " result ")'
    ' and not(contains(@class, "result--ad"))]'
)
_CLASS = 'contains(concat(" ", normalize-space(@class), " "), " {} ")'


def _target(href: str, base: str) -> str:
    """DuckDuckGo links results through `/l/?uddg=<url>`: the URL itself."""
    absolute = urljoin(base, href)
    parts = urlsplit(absolute)
    if parts.path.startswith("/l/"):
        found = parse_qs(parts.query).get("uddg")
        if found:
            return found[0]
    return absolute


def parse_results(html: str, base: str, limit: int) -> list[dict[str, str]]:
    try:
        root = lxml.html.fromstring(html)
    except (ParserError, ValueError):
        return []
    results: list[dict[str, str]] = []
    for block in root.xpath(_RESULT):
        links = block.xpath(f".//a[{_CLASS.format('result__a')}]")
        if not links:
            continue
        link = links[0]
        snippets = block.xpath(f".//*[{_CLASS.format('result__snippet')}]")
        body = " ".join(snippets[0].text_content().split()) if snippets else ""
        results.append(
            {
                "title": " ".join(link.text_content().split()),
                "href": _target(link.get("href") or "", base),
                "body": body,
            }
        )
        if len(results) >= limit:
            break
    return results


async def ddgo_search(args: dict[str, Any], env: BuiltinEnv, call: ToolCall) -> ToolOutput:
    query = str(args.get("query") or "")
    if not query:
        raise ToolError("query is required")
    limit = int(args.get("max_results") or 5)
    base = (env.credentials.get("base_url") or BASE_URL).rstrip("/")
    reply = await send(
        env,
        "POST",
        f"{base}/html/",
        headers={"User-Agent": BROWSER_AGENT, "Referer": f"{base}/"},
        data={"q": query, "b": ""},
    )
    if reply.status_code != 200:
        raise ToolError(f"DuckDuckGo answered HTTP {reply.status_code}")
    html = decode_page(reply.content, reply.content_type)
    return ToolOutput(json=list(parse_results(html, f"{base}/html/", limit)))


PROVIDER = BuiltinProviderDef(
    name="duckduckgo",
    label="DuckDuckGo",
    tools=(
        BuiltinToolDef(
            "ddgo_search",
            "DuckDuckGo Search",
            "Perform searches on DuckDuckGo and get results.",
            (
                param("query", required=True, description="The search query."),
                param("max_results", "number", required=True, form="form", default=5),
                param("require_summary", "boolean", form="form", default=False),
                param("proxy_server", form="form"),
            ),
            ddgo_search,
        ),
    ),
)
