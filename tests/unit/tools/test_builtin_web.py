"""Web tools against a loopback site through the SSRF guard (127.0.0.1 allowed here):
webscraper's readable text, jina_reader with a key (the Reader API) and without (read
natively), DuckDuckGo's HTML results, Tavily search and extract with the operator's key,
and the guard refusing what the allow-list does not let through."""

import json
from collections.abc import Iterator

import pytest

from app.core.config import Settings
from app.integrations.tools.base import ToolError
from app.integrations.tools.builtin.provider import BuiltinProvider
from app.integrations.tools.runtime import ToolBox
from app.net.http_node import GuardedHttpCaller
from app.net.ssrf import AllowList
from tests.unit.tools.support import CALL, integrations, ref, toolbox
from tests.unit.tools.web_site import WebSite, web_site


@pytest.fixture(scope="module")
def site() -> Iterator[WebSite]:
    with web_site() as found:
        yield found


def configured(site: WebSite) -> ToolBox:
    return toolbox(
        f"""
tools:
  credentials:
    tavily: {{api_key: tvly-test, base_url: "{site.base}"}}
    duckduckgo: {{base_url: "{site.base}"}}
    jina: {{api_key: jina-test, base_url: "{site.base}/r"}}
"""
    )


async def test_webscraper_reads_the_article(site: WebSite) -> None:
    output = await toolbox().invoke(
        ref("webscraper", "webscraper"),
        {"url": f"{site.base}/article", "user_agent": "KilnTest/1"},
        CALL,
    )
    text = output.text
    assert text.startswith("\nTITLE: Kiln field notes\nAUTHORS: Ada Lovelace\n")
    assert "PUBLISH DATE: None\nTOP_IMAGE_URL: \nTEXT:\n\n" in text
    assert "Kilns fire clay at high temperatures, and a steady ramp" in text
    assert "Cone packs, placed where the shelves are visible" in text
    assert "tracking" not in text and "Copyright" not in text
    assert site.requests[-1].headers["user-agent"] == "KilnTest/1"


async def test_webscraper_other_answers(site: WebSite) -> None:
    box = toolbox()
    scrape = ref("langgenius/webscraper/webscraper", "webscraper")

    async def read(path: str) -> str:
        return (await box.invoke(scrape, {"url": f"{site.base}{path}"}, CALL)).text

    assert await read("/plain") == "just text, ünïcode"
    assert await read("/data.json") == '{"a": 1}'
    assert await read("/report.pdf") == "Unsupported content-type [application/pdf] of URL."
    assert await read("/missing") == "URL returned status code 404."
    assert "Café crème brûlée" in await read("/latin1")
    assert (await box.invoke(scrape, {"url": ""}, CALL)).text == "Please input url"


async def test_the_guard_applies(site: WebSite) -> None:
    closed = ToolBox(integrations())
    closed.register(
        BuiltinProvider.from_settings(
            Settings(), closed.integrations, None, http=GuardedHttpCaller(AllowList())
        )
    )
    with pytest.raises(ToolError, match="disallowed address"):
        await closed.invoke(ref("webscraper", "webscraper"), {"url": f"{site.base}/article"}, CALL)
    with pytest.raises(ToolError, match="disallowed address"):
        await toolbox().invoke(ref("webscraper", "webscraper"), {"url": "http://10.0.0.1/"}, CALL)


async def test_jina_reader_with_a_key_calls_the_reader(site: WebSite) -> None:
    output = await configured(site).invoke(
        ref("jina", "jina_reader"),
        {
            "url": "https://kiln.example.test/page",
            "target_selector": "main",
            "no_cache": 1,
            "image_caption": 0,
            "content_format": "markdown",
            "request_params": '{"lang": "en"}',
        },
        CALL,
    )
    payload = json.loads(output.text)
    assert payload["data"]["content"] == "# Read https://kiln.example.test/page?lang=en"
    seen = site.requests[-1]
    assert seen.path == "/r/https://kiln.example.test/page?lang=en"
    assert seen.headers["x-target-selector"] == "main" and seen.headers["x-no-cache"] == "true"
    assert seen.headers["x-return-format"] == "markdown"
    assert "x-with-generated-alt" not in seen.headers
    assert seen.headers["accept"] == "application/json"


async def test_jina_reader_without_a_key_reads_natively(site: WebSite) -> None:
    output = await toolbox().invoke(
        ref("langgenius/jina/jina", "jina_reader"), {"url": f"{site.base}/article"}, CALL
    )
    payload = json.loads(output.text)
    assert payload["code"] == 200 and payload["status"] == 20000
    assert payload["data"]["title"] == "Kiln field notes"
    assert payload["data"]["url"] == f"{site.base}/article"
    assert "Cone packs" in payload["data"]["content"]
    with pytest.raises(ToolError, match="request_params"):
        await configured(site).invoke(
            ref("jina", "jina_reader"), {"url": "x", "request_params": "[1]"}, CALL
        )


async def test_duckduckgo_results_as_json_messages(site: WebSite) -> None:
    box = configured(site)
    search = ref("langgenius/duckduckgo/duckduckgo", "ddgo_search")
    output = await box.invoke(search, {"query": "kiln", "max_results": 5}, CALL)
    assert output.text == ""
    assert output.json == [
        {
            "title": "Kiln guide",
            "href": "https://kiln.example.test/guide",
            "body": "How to fire a kiln safely.",
        },
        {"title": "Pots", "href": "https://pots.example.test/", "body": "All about pots."},
    ]
    seen = site.requests[-1]
    assert seen.method == "POST" and seen.form()["q"] == ["kiln"]
    one = await box.invoke(search, {"query": "kiln", "max_results": "1"}, CALL)
    assert len(one.json) == 1


async def test_tavily_search_and_extract_with_the_operators_key(site: WebSite) -> None:
    box = configured(site)
    output = await box.invoke(
        ref("tavily", "tavily_search"),
        {
            "query": "kilns",
            "include_answer": 1,
            "include_images": 1,
            "include_raw_content": 0,
            "max_results": 10,
            "search_depth": "basic",
            "include_domains": "a.test, b.test",
            "exclude_domains": None,
        },
        CALL,
    )
    sent = site.requests[-1].json()
    assert sent == {
        "query": "kilns",
        "include_answer": "basic",
        "include_images": True,
        "max_results": 10,
        "search_depth": "basic",
        "include_domains": ["a.test", "b.test"],
        "topic": "general",
        "auto_parameters": False,
        "include_image_descriptions": False,
        "include_favicon": False,
        "include_usage": False,
    }
    assert output.json[0]["answer"] == "Kilns are hot."
    assert output.text.startswith("**Answer:** Kilns are hot.\n")
    assert "# Result 1: [Kiln](https://kiln.example.test/)" in output.text
    assert [f.url for f in output.files] == ["https://img.example.test/k.jpg"]
    empty = await box.invoke(ref("tavily", "tavily_search"), {"query": "nothing"}, CALL)
    assert empty.text == "No results found for 'nothing' in Tavily."
    extracted = await box.invoke(
        ref("langgenius/tavily/tavily", "tavily_extract"),
        {"urls": "https://a.test/, https://b.test/"},
        CALL,
    )
    assert site.requests[-1].json()["urls"] == ["https://a.test/", "https://b.test/"]
    assert "# Extracted Content 2: https://b.test/" in extracted.text
    assert extracted.json[0]["results"][0]["raw_content"] == "content of https://a.test/"


async def test_tavily_with_a_wrong_key_answers_the_error_as_text(site: WebSite) -> None:
    box = toolbox(
        f'tools: {{credentials: {{tavily: {{api_key: wrong, base_url: "{site.base}"}}}}}}'
    )
    output = await box.invoke(ref("tavily", "tavily_search"), {"query": "x"}, CALL)
    assert output.text.startswith("Error occurred while searching: HTTP 401")
    assert "invalid API key" in output.text
