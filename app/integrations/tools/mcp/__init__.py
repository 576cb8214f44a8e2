"""MCP tools (`provider_type: mcp`): tools of operator-named MCP servers, through the
official `mcp` SDK over streamable HTTP or SSE, behind the SSRF guard."""

from app.integrations.tools.mcp.provider import McpToolProvider

__all__ = ["McpToolProvider"]
