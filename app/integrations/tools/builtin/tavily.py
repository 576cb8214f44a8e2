"""Dify's `tavily` provider (langgenius/tavily): tavily_search and tavily_extract over
Tavily's HTTP API (`POST {base_url}/search`, `/extract`, bearer key) with the operator's
key from `tools.credentials.tavily.api_key` (`base_url` there overrides
https://api.tavily.com). Parameters are processed as the plugin does; answers are its JSON
message and markdown text; result images come back as remote-URL files."""

from typing import Any

from app.integrations.tools.base import ToolCall, ToolFile, ToolOutput
from app.integrations.tools.builtin.base import (
    BuiltinEnv,
    BuiltinProviderDef,
    BuiltinToolDef,
    param,
)
from app.integrations.tools.builtin.web import post_json

BASE_URL = "https://api.tavily.com"
_FLAGS = (
    "include_images",
    "include_image_descriptions",
    "auto_parameters",
    "include_favicon",
    "include_usage",
)
_PLAIN = ("search_depth", "topic", "query", "time_range", "country", "start_date", "end_date")


def _headers(env: BuiltinEnv, args: dict[str, Any]) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {env.credentials.get('api_key', '')}"}
    if args.get("project_id"):
        headers["X-Project-ID"] = str(args["project_id"])
    return headers


def _url(env: BuiltinEnv, path: str) -> str:
    return (env.credentials.get("base_url") or BASE_URL).rstrip("/") + path


def _truthy_as(mode: str) -> dict[str, str]:
    """Old builtin exports say 1 / true; the plugin says true / basic / markdown."""
    return {"true": mode, "1": mode, "yes": mode, mode: mode}


def _choice(value: Any, named: dict[str, str]) -> str | None:
    """include_answer / include_raw_content: false → left out, true → the default mode."""
    if isinstance(value, str):
        return named.get(value.strip().lower())
    return named["true"] if value else None


def search_params(args: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for key, value in args.items():
        if value is None or value in ("None", "not_specified"):
            continue
        if key in ("include_domains", "exclude_domains"):
            if isinstance(value, str) and value.strip():
                body[key] = value.replace(",", " ").split()
        elif key in _FLAGS:
            body[key] = value.lower() == "true" if isinstance(value, str) else bool(value)
        elif key == "include_answer":
            chosen = _choice(value, {**_truthy_as("basic"), "advanced": "advanced"})
            if chosen:
                body[key] = chosen
        elif key == "include_raw_content":
            chosen = _choice(value, {**_truthy_as("markdown"), "text": "text"})
            if chosen:
                body[key] = chosen
        elif key in ("max_results", "chunks_per_source"):
            body[key] = int(value)
        elif key in _PLAIN:
            body[key] = value
    body.setdefault("search_depth", "basic")
    body.setdefault("topic", "general")
    body.setdefault("max_results", 5)
    if body["search_depth"] in ("advanced", "fast"):
        body.setdefault("chunks_per_source", 3)
    else:
        body.pop("chunks_per_source", None)
    return body


def _image_files(images: Any) -> list[ToolFile]:
    files = []
    for image in images if isinstance(images, list) else []:
        url = image.get("url") if isinstance(image, dict) else image
        if isinstance(url, str) and url:
            name = url.split("/")[-1].split("?")[0]
            files.append(ToolFile(mime_type="image/jpeg", filename=name, url=url))
    return files


def search_text(results: dict[str, Any], args: dict[str, Any]) -> str:
    lines: list[str] = []
    answer = args.get("include_answer")
    if answer and answer not in (False, "false") and results.get("answer"):
        lines.append(f"**Answer:** {results['answer']}\n")
    for idx, result in enumerate(results.get("results") or [], 1):
        title, url = result.get("title", "No Title"), result.get("url", "")
        lines.append(f"# Result {idx}: [{title}]({url})\n")
        if args.get("topic") == "news" and result.get("published_date"):
            lines.append(f"**Published Date:** {result['published_date']}\n")
        lines.append(f"**URL:** {url}\n")
        if result.get("score"):
            lines.append(f"**Relevance Score:** {result['score']}\n")
        if args.get("include_favicon") and result.get("favicon"):
            site = result.get("title", "website")
            lines.append(f"**Favicon:** ![Favicon for {site}]({result['favicon']})\n")
        if result.get("content"):
            lines.append(f"**Content:**\n{result['content']}\n")
        raw = args.get("include_raw_content")
        if raw and raw not in (False, "false") and result.get("raw_content"):
            lines.append(f"**Raw Content:**\n{result['raw_content']}\n")
        lines.append("---\n")
    if args.get("include_images") and results.get("images"):
        lines.append("**Images:**\n")
        for image in results["images"]:
            url = image.get("url") if isinstance(image, dict) else image
            described = image.get("description") if isinstance(image, dict) else None
            if url:
                lines.append(f"![{described or 'Tavily search result image'}]({url})\n")
        lines.append("\n")
    return "\n".join(lines)


async def tavily_search(args: dict[str, Any], env: BuiltinEnv, call: ToolCall) -> ToolOutput:
    query = args.get("query") or ""
    if not query:
        return ToolOutput(text="Please input a query.")
    status, payload = await post_json(
        env, _url(env, "/search"), search_params(args), _headers(env, args)
    )
    if status != 200 or not isinstance(payload, dict):
        return ToolOutput(text=f"Error occurred while searching: {_error(status, payload)}")
    if not payload.get("results"):
        return ToolOutput(text=f"No results found for '{query}' in Tavily.")
    files = _image_files(payload.get("images")) if args.get("include_images") else []
    return ToolOutput(text=search_text(payload, args), json=[payload], files=files)


def _error(status: int, payload: Any) -> str:
    if isinstance(payload, dict):
        detail = payload.get("detail") or payload.get("error") or payload
        if isinstance(detail, dict):
            detail = detail.get("error") or detail
        return f"HTTP {status}: {detail}"
    return f"HTTP {status}: {str(payload)[:300]}"


def extract_params(args: dict[str, Any]) -> dict[str, Any]:
    urls = args.get("urls")
    listed = [u.strip() for u in urls.split(",") if u.strip()] if isinstance(urls, str) else urls
    if not listed:
        raise ValueError("At least one valid URL must be provided.")
    body: dict[str, Any] = {"urls": listed}
    for key in ("include_images", "include_favicon", "include_usage"):
        if key in args and args[key] is not None:
            body[key] = bool(args[key])
    depth = args.get("extract_depth")
    if depth is not None:
        if depth not in ("basic", "advanced"):
            raise ValueError("extract_depth must be either 'basic' or 'advanced'")
        body["extract_depth"] = depth
    fmt = args.get("format")
    if fmt is not None:
        if fmt not in ("markdown", "text"):
            raise ValueError("format must be either 'markdown' or 'text'")
        body["format"] = fmt
    if args.get("query"):
        body["query"] = args["query"]
    chunks = args.get("chunks_per_source")
    if chunks is not None:
        if not 1 <= int(chunks) <= 5:
            raise ValueError("chunks_per_source must be between 1 and 5")
        body["chunks_per_source"] = int(chunks)
    timeout = args.get("timeout")
    if timeout:
        if not 1.0 <= float(timeout) <= 60.0:
            raise ValueError("timeout must be between 1.0 and 60.0 seconds")
        body["timeout"] = float(timeout)
    return body


def extract_text(results: dict[str, Any]) -> str:
    lines: list[str] = []
    for idx, result in enumerate(results.get("results") or [], 1):
        url = result.get("url", "")
        lines.append(f"# Extracted Content {idx}: {url}\n")
        if result.get("favicon"):
            lines.append(f"**Favicon:** ![Favicon for {url}]({result['favicon']})\n")
        lines.append(f"**Raw Content:**\n{result.get('raw_content', '')}\n")
        if result.get("images"):
            lines.append("**Images:**\n")
            for image_url in result["images"]:
                lines.append(f"![Image from {url}]({image_url})\n")
        lines.append("---\n")
    if results.get("failed_results"):
        lines.append("# Failed URLs:\n")
        for failed in results["failed_results"]:
            lines.append(f"- {failed.get('url', '')}: {failed.get('error', 'Unknown error')}\n")
    return "\n".join(lines)


async def tavily_extract(args: dict[str, Any], env: BuiltinEnv, call: ToolCall) -> ToolOutput:
    if not args.get("urls"):
        return ToolOutput(text="Please input at least one URL to extract.")
    try:
        body = extract_params(args)
    except ValueError as exc:
        return ToolOutput(text=f"Error occurred while extracting content: {exc}")
    status, payload = await post_json(env, _url(env, "/extract"), body, _headers(env, args))
    if status != 200 or not isinstance(payload, dict):
        error = _error(status, payload)
        return ToolOutput(text=f"Error occurred while extracting content: {error}")
    if not payload.get("results"):
        return ToolOutput(text="No content could be extracted from the provided URLs.")
    files: list[ToolFile] = []
    if args.get("include_images"):
        for result in payload["results"]:
            files += _image_files(result.get("images"))
    return ToolOutput(text=extract_text(payload), json=[payload], files=files)


_DEPTHS = ("basic", "advanced", "fast", "ultra-fast")
_DOMAINS = "A comma-separated list of domains to specifically {} the search results."

PROVIDER = BuiltinProviderDef(
    name="tavily",
    label="Tavily",
    required_credentials=("api_key",),
    tools=(
        BuiltinToolDef(
            "tavily_search",
            "Tavily Search",
            "A search engine tool built specifically for AI agents (LLMs), delivering "
            "real-time, accurate, and factual results at speed.",
            (
                param("query", required=True, description="The search query."),
                param(
                    "search_depth",
                    "select",
                    description="The depth of the search: basic, advanced, fast or ultra-fast.",
                    options=_DEPTHS,
                    default="basic",
                ),
                param(
                    "topic",
                    "select",
                    description="The category of the search: general, news or finance.",
                    options=("general", "news", "finance"),
                    default="general",
                ),
                param(
                    "time_range",
                    "select",
                    description="The time range back from the current date to filter results.",
                    options=("not_specified", "day", "week", "month", "year"),
                    default="not_specified",
                ),
                param("start_date", description="Start date for results, YYYY-MM-DD."),
                param("end_date", description="End date for results, YYYY-MM-DD."),
                param("auto_parameters", "boolean", form="form", default=False),
                param("include_images", "boolean", form="form", default=False),
                param("include_image_descriptions", "boolean", form="form", default=False),
                param("include_favicon", "boolean", form="form", default=False),
                param(
                    "include_answer",
                    "select",
                    form="form",
                    options=("false", "true", "basic", "advanced"),
                    default="false",
                ),
                param(
                    "include_raw_content",
                    "select",
                    form="form",
                    options=("false", "true", "markdown", "text"),
                    default="false",
                ),
                param("include_usage", "boolean", form="form", default=False),
                param("max_results", "number", form="form", default=5),
                param("chunks_per_source", "number", form="form", default=3),
                param("country", "select", description="Boost results for a country."),
                param("include_domains", description=_DOMAINS.format("include in")),
                param("exclude_domains", description=_DOMAINS.format("exclude from")),
                param("project_id", form="form"),
            ),
            tavily_search,
        ),
        BuiltinToolDef(
            "tavily_extract",
            "Tavily Extract",
            "Extract the content of web pages (a comma-separated list of URLs) with Tavily.",
            (
                param("urls", required=True, description="A comma-separated list of URLs."),
                param("query", description="User intent for reranking the extracted chunks."),
                param("include_images", "boolean", form="form", default=False),
                param("include_favicon", "boolean", form="form", default=False),
                param(
                    "extract_depth",
                    "select",
                    options=("basic", "advanced"),
                    default="basic",
                    description="The depth of extraction: basic or advanced.",
                ),
                param(
                    "format",
                    "select",
                    form="form",
                    options=("markdown", "text"),
                    default="markdown",
                ),
                param("chunks_per_source", "number", form="form", default=3),
                param("timeout", "number", form="form"),
                param("include_usage", "boolean", form="form", default=False),
                param("project_id", form="form"),
            ),
            tavily_extract,
        ),
    ),
)
