"""An httpx transport behind Kiln's SSRF guard, for the MCP SDK's HTTP client.

The operator names MCP servers, but Dify treats their URLs like any user-given URL (its MCP
client goes through its SSRF proxy), and so does Kiln: before each request the host is
resolved and judged (app/net/ssrf.py), and the connection goes to the very address that
was judged (app/net/fetch.py's pinned network backend), redirects included. Internal MCP
servers are let through with `KILN_SSRF_ALLOWED_HOSTS`. No proxy from the environment is
honoured (it would bypass the pin)."""

import httpcore
import httpx

from app.net.fetch import PinnedBackend
from app.net.ssrf import AllowList, BlockedAddress, checked_address


class GuardBlocked(httpx.TransportError):
    """The SSRF guard refused the host; the message says why."""


class GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, allow: AllowList) -> None:
        super().__init__(trust_env=False, retries=0)
        self._allow = allow
        self._backend = PinnedBackend()
        # httpx builds its own pool; this one connects only where the guard approved.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            network_backend=self._backend,
            retries=0,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise GuardBlocked("only http and https URLs are allowed", request=request)
        host = url.raw_host.decode("ascii")
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            self._backend.pins[host] = await checked_address(host, port, self._allow)
        except BlockedAddress as exc:
            raise GuardBlocked(str(exc), request=request) from None
        return await super().handle_async_request(request)
