"""MCP tools (`provider_type: mcp`): the servers an operator names in the integrations file
(`tools.mcp.<server identifier or name>`: URL, transport, headers, timeout). A server's tool
listing is kept per process for a short while (LIST_TTL), so a node's tools are found
without a round trip each time, and a tool the listing lacks is looked up once more before
the call fails."""

import asyncio
import time
from typing import TYPE_CHECKING

from app.core.config import Settings
from app.integrations.config import Integrations, McpServer, load_integrations
from app.integrations.tools.base import ToolError, ToolNotConfigured, ToolRef, ToolSpec
from app.integrations.tools.hints import not_configured
from app.net.ssrf import AllowList

if TYPE_CHECKING:  # the SDK loads on the first MCP tool, not at start-up (about 0.5 s)
    from mcp.types import Tool as McpToolInfo

    from app.integrations.tools.mcp.client import McpClient
    from app.integrations.tools.mcp.tool import McpTool

LIST_TTL = 60.0  # seconds a server's tool listing is reused


class McpToolProvider:
    provider_types: tuple[str, ...] = ("mcp",)

    def __init__(self, integrations: Integrations, allow: AllowList) -> None:
        self._integrations = integrations
        self._allow = allow
        self._listings: dict[str, tuple[float, dict[str, McpToolInfo]]] = {}  # listed at, tools
        self._locks: dict[str, asyncio.Lock] = {}

    @classmethod
    def from_settings(
        cls, settings: Settings, integrations: Integrations | None = None
    ) -> "McpToolProvider":
        if integrations is None:
            integrations = load_integrations(settings.integrations_file)
        return cls(integrations, AllowList.parse(settings.ssrf_allowed_hosts))

    def entry(self, ref: ToolRef) -> tuple[str, McpServer] | None:
        """The `tools.mcp` entry for `ref`: by provider id (Dify's server identifier), then
        by name."""
        table = self._integrations.tools.mcp
        for key in (ref.provider_id, ref.provider_name, ref.provider):
            if key and key in table:
                return key, table[key]
        return None

    def check(self, ref: ToolRef) -> str | None:
        if ref.provider_type not in self.provider_types:
            return None
        found = self.entry(ref)
        if found is None:
            return not_configured(ref, self._integrations)
        key, server = found
        problem = _url_problem(key, server)
        if problem is not None:
            return f"{ref.describe()}: {problem}"
        listed = self._listings.get(key)
        if listed is not None and ref.tool_name not in listed[1]:
            return _missing(ref, key, listed[1])
        return None

    async def find(self, ref: ToolRef) -> "McpTool | None":
        if ref.provider_type not in self.provider_types:
            return None
        from app.integrations.tools.mcp.client import McpClient
        from app.integrations.tools.mcp.convert import parameters
        from app.integrations.tools.mcp.tool import McpTool

        found = self.entry(ref)
        if found is None:
            raise ToolNotConfigured(not_configured(ref, self._integrations))
        key, server = found
        problem = _url_problem(key, server)
        if problem is not None:
            raise ToolNotConfigured(f"{ref.describe()}: {problem}")
        client = McpClient(key, server, self._allow)
        tools = await self._listing(key, client, fresh=False)
        info = tools.get(ref.tool_name)
        if info is None:
            tools = await self._listing(key, client, fresh=True)
            info = tools.get(ref.tool_name)
        if info is None:
            raise ToolError(_missing(ref, key, tools))
        spec = ToolSpec(
            ref=ref,
            label=info.title or info.name,
            description=info.description or "",
            parameters=parameters(info),
        )
        return McpTool(spec, info, client)

    async def _listing(
        self, key: str, client: "McpClient", fresh: bool
    ) -> "dict[str, McpToolInfo]":
        """The server's tools: the kept listing while it is young enough, or (`fresh`) only
        one made after this call began."""
        asked = time.monotonic()

        def usable() -> "dict[str, McpToolInfo] | None":
            kept = self._listings.get(key)
            if kept is None:
                return None
            listed_at, tools = kept
            young = listed_at >= asked if fresh else listed_at + LIST_TTL > asked
            return tools if young else None

        tools = usable()
        if tools is not None:
            return tools
        async with self._locks.setdefault(key, asyncio.Lock()):
            tools = usable()  # another caller may have listed while this one waited
            if tools is None:
                tools = {tool.name: tool for tool in await client.list_tools()}
                self._listings[key] = (time.monotonic(), tools)
            return tools


def _missing(ref: ToolRef, key: str, tools: "dict[str, McpToolInfo]") -> str:
    names = sorted(tools)
    shown = ", ".join(names[:20]) + (", …" if len(names) > 20 else "")
    return (
        f"{ref.describe()}: the MCP server `tools.mcp.{key}` has no tool `{ref.tool_name}` "
        f"(it has: {shown or 'none'})"
    )


def _url_problem(key: str, server: McpServer) -> str | None:
    scheme = server.url.split(":", 1)[0].lower() if ":" in server.url else ""
    if scheme not in ("http", "https"):
        return f"`tools.mcp.{key}.url` must be an http or https URL"
    return None
