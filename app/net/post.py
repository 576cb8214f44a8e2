"""POST JSON to an operator-configured URL through the SSRF policy (API-based extensions).

Same guard as app/net/fetch.py: the host is checked after DNS resolution and the connection
goes to the checked address; redirects are not followed; the answer is capped in size and
the whole call in time.
"""

import ssl

import httpcore

from app.net.fetch import (
    PinnedBackend,
    guarded,
    parse_url,
    read_capped,
)
from app.net.ssrf import AllowList, checked_address

USER_AGENT = "Kiln-Extension/1.0"


async def post_json(
    url: str,
    body: bytes,
    headers: dict[str, str],
    allow: AllowList,
    timeout: float,
    max_bytes: int = 1024 * 1024,
) -> tuple[int, bytes]:
    """(status, body) of the answer; FetchError subclasses on any failure."""
    async with guarded(timeout):
        return await _post(url, body, headers, allow, max_bytes)
    raise AssertionError("unreachable")  # guarded() re-raises every failure


async def _post(
    url: str, body: bytes, headers: dict[str, str], allow: AllowList, max_bytes: int
) -> tuple[int, bytes]:
    target = parse_url(url)
    host = target.raw_host.decode("ascii")
    port = target.port or (443 if target.scheme == "https" else 80)
    backend = PinnedBackend()
    backend.pins[host] = await checked_address(host, port, allow)
    sent = [(b"User-Agent", USER_AGENT.encode())]
    sent += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    async with httpcore.AsyncConnectionPool(
        ssl_context=ssl.create_default_context(), network_backend=backend, retries=0
    ) as pool:
        request_url = httpcore.URL(
            scheme=target.raw_scheme, host=target.raw_host, port=target.port, target=target.raw_path
        )
        async with pool.stream(b"POST", request_url, headers=sent, content=body) as response:
            return response.status, await read_capped(response, max_bytes, "answer")
