"""Dify's `webscraper` provider: the webscraper tool fetches a page through the SSRF guard
and answers Dify's web-reader text (TITLE, AUTHORS, PUBLISH DATE, TOP_IMAGE_URL, TEXT) of
its readable article. Plain text and JSON pages answer their text; other types answer
Dify's "Unsupported content-type" line, a status other than 200 its "URL returned status
code" line. `generate_summary` needs a summary model Kiln does not have: the full text is
returned."""

from typing import Any

from app.integrations.tools.base import ToolCall, ToolOutput
from app.integrations.tools.builtin.base import (
    BuiltinEnv,
    BuiltinProviderDef,
    BuiltinToolDef,
    param,
)
from app.integrations.tools.builtin.readable import decode_page, read_article
from app.integrations.tools.builtin.web import BROWSER_AGENT, send

FULL_TEMPLATE = """
TITLE: {title}
AUTHORS: {authors}
PUBLISH DATE: {publish_date}
TOP_IMAGE_URL: {top_image}
TEXT:

{text}
"""
DEFAULT_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/100.0.1000.0 Safari/537.36"
)
TEXT_TYPES = ("text/plain", "application/json")


async def page_text(env: BuiltinEnv, url: str, user_agent: str | None = None) -> str:
    """Dify's `get_url`: the readable text of a page, or the line saying why not."""
    reply = await send(env, "GET", url, headers={"User-Agent": user_agent or BROWSER_AGENT})
    if reply.status_code != 200:
        return f"URL returned status code {reply.status_code}."
    main_type = reply.content_type.split(";")[0].strip().lower() or None
    text = decode_page(reply.content, reply.content_type)
    if main_type in TEXT_TYPES:
        return text
    if main_type not in ("text/html", "application/xhtml+xml", None):
        return f"Unsupported content-type [{main_type}] of URL."
    article = read_article(text)
    if not article.text.strip():
        return ""
    return FULL_TEMPLATE.format(
        title=article.title,
        authors=article.byline,
        publish_date=None,
        top_image="",
        text=article.text,
    )


async def webscraper(args: dict[str, Any], env: BuiltinEnv, call: ToolCall) -> ToolOutput:
    url = args.get("url") or ""
    if not url:
        return ToolOutput(text="Please input url")
    return ToolOutput(text=await page_text(env, str(url), args.get("user_agent") or None))


PROVIDER = BuiltinProviderDef(
    name="webscraper",
    label="Web Scraper",
    tools=(
        BuiltinToolDef(
            "webscraper",
            "Web Scraper",
            "A tool for scraping webpages. Input should be a URL.",
            (
                param("url", required=True, description="url for scraping"),
                param(
                    "user_agent",
                    description="used for identifying the browser.",
                    form="form",
                    default=DEFAULT_AGENT,
                ),
                param(
                    "generate_summary",
                    "boolean",
                    description="If true, the crawler will only return the page summary content.",
                    form="form",
                    default=False,
                ),
            ),
            webscraper,
        ),
    ),
)
