"""One tool of an MCP server: its spec from the server's listing, its call a short SDK
session (app/integrations/tools/mcp/client.py), its result in Dify's tool output shapes."""

from typing import Any

from mcp.types import Tool as McpToolInfo

from app.integrations.tools.base import ToolCall, ToolOutput, ToolSpec
from app.integrations.tools.mcp.client import McpClient
from app.integrations.tools.mcp.convert import arguments as sent_arguments
from app.integrations.tools.mcp.convert import to_output


class McpTool:
    def __init__(self, spec: ToolSpec, info: McpToolInfo, client: McpClient) -> None:
        self.spec = spec
        self._info = info
        self._client = client

    async def invoke(self, arguments: dict[str, Any], call: ToolCall) -> ToolOutput:
        timeout = self._client.server.timeout
        if call.timeout > 0:
            timeout = min(timeout, call.timeout)
        result = await self._client.call_tool(self._info.name, sent_arguments(arguments), timeout)
        return to_output(self._info, result)
