"""MCP tools (`provider_type: mcp`) against a local MCP server (the SDK's FastMCP over
streamable HTTP and SSE, tests/support/mcp_server.py): listing, calling, Dify's result
shapes (text, JSON, files, variables), errors with clear messages, the operator's headers,
and the SSRF guard (the local server is reachable only through the allow-list)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from app.integrations.config import parse_integrations
from app.integrations.tools.base import ToolCall, ToolError, ToolNotConfigured, ToolOutput, ToolRef
from app.integrations.tools.mcp import McpToolProvider
from app.integrations.tools.mcp.transport import GuardBlocked, GuardedTransport
from app.net.ssrf import AllowList
from tests.support.files import PNG
from tests.support.mcp_server import API_KEY, WAV, mcp_servers

LOOPBACK = AllowList.parse("127.0.0.1/32")
CALL = ToolCall(user_id="u", app_id="a")
KEY = {"X-Api-Key": API_KEY}


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[str, str]]:
    with mcp_servers() as urls:
        yield urls


def provider(entries: dict[str, Any], allow: AllowList = LOOPBACK) -> McpToolProvider:
    text = yaml.safe_dump({"tools": {"mcp": entries}})
    return McpToolProvider(parse_integrations(text, Path("/nowhere/integrations.yaml")), allow)


def ref(tool: str, server_id: str = "docs", name: str = "Docs server") -> ToolRef:
    return ToolRef("mcp", server_id, tool, provider_name=name)


async def call(p: McpToolProvider, tool: str, arguments: dict[str, Any]) -> ToolOutput:
    found = await p.find(ref(tool))
    assert found is not None
    return await found.invoke(arguments, CALL)


@pytest.fixture(params=["streamable_http", "sse"])
def docs(request: pytest.FixtureRequest, servers: tuple[str, str]) -> McpToolProvider:
    url = servers[0] if request.param == "streamable_http" else servers[1]
    return provider({"docs": {"url": url, "transport": request.param, "headers": KEY}})


async def test_tools_are_listed_with_their_parameters(docs: McpToolProvider) -> None:
    echo = await docs.find(ref("echo"))
    assert echo is not None
    assert echo.spec.description == "Say a text back"
    params = {p.name: p for p in echo.spec.parameters}
    assert (params["text"].type, params["text"].required) == ("string", True)
    assert (params["times"].type, params["times"].required, params["times"].default) == (
        "number",
        False,
        1,
    )
    assert echo.spec.json_schema()["required"] == ["text"]


async def test_text_json_files_and_variables(docs: McpToolProvider) -> None:
    assert await call(docs, "echo", {"text": "hi", "times": 2}) == ToolOutput(text="hi hi")
    assert await call(docs, "json_text", {}) == ToolOutput(
        json=[{"answer": 42, "nested": {"ok": True}}]
    )
    assert (await call(docs, "json_list", {})).json == [{"id": 1}, {"id": 2}]
    image = await call(docs, "image", {})
    assert [(f.mime_type, f.content) for f in image.files] == [("image/png", PNG)]
    audio = await call(docs, "audio", {})
    assert [(f.mime_type, f.content) for f in audio.files] == [("audio/wav", WAV)]
    resources = await call(docs, "resources", {})
    assert resources.text == "before embedded text"
    assert [(f.mime_type, f.content) for f in resources.files] == [("application/pdf", b"%PDF-1.4")]
    forecast = await call(docs, "forecast", {"city": "Oslo"})
    assert forecast.variables == {"city": "Oslo", "high": 21, "sky": "clear"}


async def test_headers_reach_the_server_and_empty_arguments_are_dropped(
    docs: McpToolProvider,
) -> None:
    assert await call(docs, "whoami", {}) == ToolOutput(text=API_KEY)
    received = await call(docs, "received", {"a": "  ", "b": "given", "n": None})
    assert received.json == [{"a": "absent", "b": "given", "n": -1}]


async def test_a_failing_tool_is_a_tool_error(docs: McpToolProvider) -> None:
    with pytest.raises(ToolError, match="MCP tool fails failed: .*the tool broke"):
        await call(docs, "fails", {})


async def test_unknown_tools_list_what_the_server_has(docs: McpToolProvider) -> None:
    assert docs.check(ref("nothing")) is None  # nothing listed yet: no I/O in check
    with pytest.raises(ToolError, match="has no tool `nothing` \\(it has: .*echo"):
        await docs.find(ref("nothing"))
    assert "has no tool `nothing`" in (docs.check(ref("nothing")) or "")


async def test_connection_failures_are_clear_and_keep_secrets(servers: tuple[str, str]) -> None:
    no_key = provider({"docs": {"url": servers[0]}})
    with pytest.raises(ToolError) as failed:
        await no_key.find(ref("echo"))
    assert "answered HTTP 401 (check `tools.mcp.docs.headers`)" in failed.value.message
    secret = "?token=hunter2"
    down = provider({"docs": {"url": f"http://127.0.0.1:9/mcp{secret}", "headers": KEY}})
    with pytest.raises(ToolError) as refused:
        await down.find(ref("echo"))
    assert "cannot connect to MCP server `tools.mcp.docs` (http://127.0.0.1:9/mcp)" in (
        refused.value.message
    )
    assert "hunter2" not in refused.value.message and API_KEY not in refused.value.message


async def test_a_slow_server_is_cut_at_the_timeout(servers: tuple[str, str]) -> None:
    p = provider({"docs": {"url": servers[0], "headers": KEY, "timeout": 1}})
    with pytest.raises(ToolError, match="did not answer"):
        await call(p, "slow", {})
    assert await call(p, "echo", {"text": "still fine"}) == ToolOutput(text="still fine")


async def test_the_ssrf_guard_stands_before_mcp_servers(servers: tuple[str, str]) -> None:
    closed = provider({"docs": {"url": servers[0], "headers": KEY}}, allow=AllowList())
    with pytest.raises(ToolError, match="is not reachable: .*disallowed address"):
        await closed.find(ref("echo"))
    async with httpx.AsyncClient(transport=GuardedTransport(AllowList())) as client:
        with pytest.raises(GuardBlocked, match="disallowed address"):
            await client.get(servers[0])


async def test_unconfigured_servers_name_the_setting() -> None:
    p = provider({"other": {"url": "http://127.0.0.1:1/mcp"}})
    reason = p.check(ref("echo"))
    assert reason is not None
    assert "MCP tool Docs server/echo is not configured" in reason
    assert "add `tools.mcp.Docs server`" in reason and "integrations.yaml" in reason
    with pytest.raises(ToolNotConfigured, match=r"tools\.mcp\.Docs server"):
        await p.find(ref("echo"))
    by_name = provider({"Docs server": {"url": "ftp://files.example/mcp"}})
    assert "`tools.mcp.Docs server.url` must be an http or https URL" in (
        by_name.check(ref("echo")) or ""
    )
    with pytest.raises(ToolNotConfigured, match="must be an http or https URL"):
        await by_name.find(ref("echo"))
    assert (
        p.check(ToolRef("api", "x", "y")) is None and await p.find(ToolRef("api", "x", "y")) is None
    )
