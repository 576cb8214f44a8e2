"""Talking to one MCP server with the official SDK: a short session per operation
(initialize, then list the tools or call one, then close), as Dify's MCP tool does, over
streamable HTTP or SSE, with the operator's headers, through the SSRF guard, bounded by the
server's timeout. Every failure becomes a ToolError naming the server's entry, never its
headers (they carry credentials) nor its URL's query."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from mcp import ClientSession, McpError
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, Tool

from app.integrations.config import McpServer
from app.integrations.tools.base import ToolError
from app.integrations.tools.mcp.transport import GuardBlocked, GuardedTransport
from app.net.ssrf import AllowList, BlockedAddress, checked_address

MAX_LIST_PAGES = 50  # `tools/list` pages followed before giving up


class McpClient:
    def __init__(self, name: str, server: McpServer, allow: AllowList) -> None:
        self.name = name
        self.server = server
        self._allow = allow

    @property
    def where(self) -> str:
        return f"MCP server `tools.mcp.{self.name}` ({shown_url(self.server.url)})"

    async def list_tools(self) -> list[Tool]:
        async def run(session: ClientSession) -> list[Tool]:
            tools: list[Tool] = []
            cursor: str | None = None
            for _page in range(MAX_LIST_PAGES):
                listed = await session.list_tools(cursor)
                tools += listed.tools
                cursor = listed.nextCursor
                if not cursor:
                    break
            return tools

        return await self._run(run, self.server.timeout)

    async def call_tool(
        self, tool: str, arguments: dict[str, Any], timeout: float
    ) -> CallToolResult:
        async def run(session: ClientSession) -> CallToolResult:
            return await session.call_tool(
                tool, arguments, read_timeout_seconds=timedelta(seconds=timeout)
            )

        return await self._run(run, timeout)

    async def _run(self, operation: Any, timeout: float) -> Any:
        await self._precheck()
        try:
            async with asyncio.timeout(timeout):
                async with self._session(timeout) as session:
                    return await operation(session)
        except ToolError:
            raise
        except TimeoutError:
            raise ToolError(f"{self.where} did not answer within {timeout:g} s") from None
        except BaseException as exc:  # the SDK's task groups wrap failures in groups
            cause = _first_failure(exc)
            if cause is None:
                raise
            raise ToolError(self._message(cause)) from None

    async def _precheck(self) -> None:
        """Refuse a server the guard refuses before the SDK's task groups start, so the
        message is the guard's (the transport checks every request again, redirects too)."""
        try:
            url = httpx.URL(self.server.url)
        except httpx.InvalidURL:
            raise ToolError(f"{self.where}: the URL is not valid") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ToolError(f"{self.where}: only http and https URLs are allowed")
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            await checked_address(url.raw_host.decode("ascii"), port, self._allow)
        except BlockedAddress as exc:
            raise ToolError(_blocked(self.where, str(exc))) from None

    @asynccontextmanager
    async def _session(self, timeout: float) -> AsyncIterator[ClientSession]:
        server = self.server
        limits = httpx.Timeout(timeout)

        def client(
            headers: dict[str, str] | None = None,
            timeout: httpx.Timeout | None = None,
            auth: httpx.Auth | None = None,
        ) -> httpx.AsyncClient:
            return httpx.AsyncClient(
                transport=GuardedTransport(self._allow),
                headers=headers,
                timeout=timeout or limits,
                auth=auth,
                trust_env=False,
            )

        read_timeout = timedelta(seconds=timeout)
        if server.transport == "sse":
            async with (
                sse_client(
                    server.url,
                    headers=dict(server.headers),
                    timeout=timeout,
                    sse_read_timeout=timeout,
                    httpx_client_factory=client,
                ) as (read, write),
                ClientSession(read, write, read_timeout_seconds=read_timeout) as session,
            ):
                await session.initialize()
                yield session
        else:
            async with (
                client(headers=dict(server.headers)) as http,
                streamable_http_client(server.url, http_client=http) as (read, write, _),
                ClientSession(read, write, read_timeout_seconds=read_timeout) as session,
            ):
                await session.initialize()
                yield session

    def _message(self, exc: BaseException) -> str:
        where = self.where
        if isinstance(exc, GuardBlocked):
            return _blocked(where, str(exc))
        if isinstance(exc, McpError):
            return f"{where} answered an error: {exc.error.message}"
        if isinstance(exc, httpx.HTTPStatusError):
            status = exc.response.status_code
            hint = f" (check `tools.mcp.{self.name}.headers`)" if status in (401, 403) else ""
            return f"{where} answered HTTP {status}{hint}"
        if isinstance(exc, httpx.TimeoutException):
            return f"{where} did not answer in time"
        if isinstance(exc, httpx.TransportError):
            return f"cannot connect to {where}: {type(exc).__name__}"
        text = str(exc).replace(self.server.url, shown_url(self.server.url))
        return f"{where} failed: {type(exc).__name__}: {text}"


def shown_url(url: str) -> str:
    """A URL as it may appear in a message: no credentials, query or fragment."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


def _blocked(where: str, reason: str) -> str:
    return (
        f"{where} is not reachable: {reason} (KILN_SSRF_ALLOWED_HOSTS lets chosen internal "
        "hosts through)"
    )


def _first_failure(exc: BaseException) -> BaseException | None:
    """The first real failure inside (nested) exception groups, cancellations aside."""
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _first_failure(inner)
            if found is not None:
                return found
        return None
    if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit | GeneratorExit):
        return None
    return exc
