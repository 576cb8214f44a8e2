"""One OpenAPI operation as a tool: its request built from the call's arguments and the
operator's auth, sent through Kiln's SSRF-guarded HTTP caller (redirects re-checked, the
reply capped in size, the call bounded in time), its reply turned into tool output."""

import asyncio
from typing import Any

from app.integrations.config import OpenApiProvider
from app.integrations.tools.base import ToolCall, ToolError, ToolOutput, ToolSpec
from app.integrations.tools.openapi.operations import Operation
from app.integrations.tools.openapi.request import prepare
from app.integrations.tools.openapi.response import to_output
from app.net.fetch import FetchBlocked, FetchError, FetchTimeout
from app.net.http_node import GuardedHttpCaller

CONNECT_TIMEOUT = 10.0  # seconds (Dify's API_TOOL_DEFAULT_CONNECT_TIMEOUT)


class OpenApiTool:
    def __init__(
        self,
        spec: ToolSpec,
        operation: Operation,
        base_url: str,
        entry: OpenApiProvider,
        entry_name: str,
        http: GuardedHttpCaller,
        max_bytes: int,
    ) -> None:
        self.spec = spec
        self._operation = operation
        self._base_url = base_url
        self._entry = entry
        self._entry_name = entry_name
        self._http = http
        self._max_bytes = max_bytes

    async def invoke(self, arguments: dict[str, Any], call: ToolCall) -> ToolOutput:
        entry = self._entry
        request = prepare(self._operation, self._base_url, arguments, entry.auth, entry.headers)
        timeout = min(entry.timeout, call.timeout) if call.timeout > 0 else entry.timeout
        where = f"the API of `tools.openapi.{self._entry_name}`"
        try:
            async with asyncio.timeout(timeout):
                reply = await self._http.request(
                    request.method,
                    request.url,
                    headers=request.headers,
                    params=request.params,
                    content=request.content,
                    files=None,
                    data=None,
                    timeouts=(min(CONNECT_TIMEOUT, timeout), timeout, timeout),
                    max_size=self._max_bytes,
                    verify=True,
                )
        except (TimeoutError, FetchTimeout):
            raise ToolError(f"{where} did not answer within {timeout:g} s") from None
        except FetchBlocked as exc:
            raise ToolError(
                f"{where} is not reachable: {exc} (KILN_SSRF_ALLOWED_HOSTS lets chosen "
                "internal hosts through)"
            ) from None
        except FetchError as exc:
            raise ToolError(f"{where} failed: {exc}") from None
        return to_output(reply)
