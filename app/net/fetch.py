"""Fetch a client-supplied URL through the SSRF policy.

Every hop is checked AFTER DNS resolution and the connection goes to the very address that
was checked (a network backend pinned per host: the request keeps its Host header and TLS
its SNI and certificate check), so a name cannot resolve to a public address for the check
and to an inward one for the connection. Redirects are followed by hand, each hop re-checked,
a bounded number of times. The body is capped in size while it is read, and the whole fetch
in time. No proxy settings from the environment are honoured (a proxy would bypass the pin).
"""

import asyncio
import contextlib
import ssl
import typing
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpcore
import httpx

from app.net.ssrf import AllowList, BlockedAddress, checked_address

REDIRECT_STATUSES = (301, 302, 303, 307, 308)
USER_AGENT = "Kiln-RemoteFile/1.0"


class FetchError(Exception):
    """The remote file could not be fetched; the text is safe to show a client."""


class FetchBlocked(FetchError):
    pass


class FetchTooLarge(FetchError):
    pass


class FetchTimeout(FetchError):
    pass


@dataclass(slots=True)
class Fetched:
    url: str  # the final URL, after redirects
    content_type: str | None
    data: bytes


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects each host only to the address the guard approved for it."""

    def __init__(self) -> None:
        self.pins: dict[str, str] = {}
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        address = self.pins.get(host)
        if address is None:  # never connect anywhere the guard has not approved
            raise httpcore.ConnectError(f"no approved address for {host}")
        return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@dataclass(slots=True)
class FetchPolicy:
    max_bytes: int
    timeout: float
    allow: AllowList = field(default_factory=AllowList)
    max_redirects: int = 5


def parse_url(text: str) -> httpx.URL:
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise FetchBlocked("invalid URL") from None
    if url.scheme not in ("http", "https"):
        raise FetchBlocked("only http and https URLs are allowed")
    if not url.host:
        raise FetchBlocked("the URL has no host")
    return url


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


async def fetch(url: str, policy: FetchPolicy) -> Fetched:
    async with guarded(policy.timeout):
        return await _fetch(url, policy)
    raise AssertionError("unreachable")  # guarded() re-raises every failure


@contextlib.asynccontextmanager
async def guarded(timeout: float) -> AsyncIterator[None]:
    """Bound a guarded HTTP exchange in time and turn every failure into a FetchError."""
    try:
        async with asyncio.timeout(timeout):
            yield
    except TimeoutError:
        raise FetchTimeout(f"timed out after {timeout:g} s") from None
    except BlockedAddress as exc:
        raise FetchBlocked(str(exc)) from None
    except httpcore.TimeoutException:
        raise FetchTimeout("timed out") from None
    except httpcore.NetworkError as exc:
        raise FetchError(f"connection failed: {type(exc).__name__}") from None
    except httpcore.ProtocolError as exc:
        raise FetchError(f"bad response: {type(exc).__name__}") from None


async def _fetch(url: str, policy: FetchPolicy) -> Fetched:
    backend = PinnedBackend()
    context = ssl.create_default_context()
    async with httpcore.AsyncConnectionPool(
        ssl_context=context, network_backend=backend, retries=0
    ) as pool:
        current = parse_url(url)
        for _hop in range(policy.max_redirects + 1):
            host = current.raw_host.decode("ascii")
            port = current.port or (443 if current.scheme == "https" else 80)
            backend.pins[host] = await checked_address(host, port, policy.allow)
            target = httpcore.URL(
                scheme=current.raw_scheme,
                host=current.raw_host,
                port=current.port,
                target=current.raw_path,
            )
            headers = [(b"User-Agent", USER_AGENT.encode()), (b"Accept", b"*/*")]
            async with pool.stream(b"GET", target, headers=headers) as response:
                if response.status in REDIRECT_STATUSES:
                    location = _header(response.headers, b"location")
                    if not location:
                        raise FetchError(f"redirect ({response.status}) without a Location")
                    current = parse_url(str(current.join(location)))
                    continue
                if response.status != 200:
                    raise FetchError(f"the server answered HTTP {response.status}")
                data = await read_capped(response, policy.max_bytes)
                return Fetched(str(current), _header(response.headers, b"content-type"), data)
        raise FetchError(f"more than {policy.max_redirects} redirects")


async def read_capped(response: httpcore.Response, max_bytes: int, what: str = "file") -> bytes:
    """The body, refused as soon as it passes `max_bytes` (announced or actual)."""
    length = _header(response.headers, b"content-length")
    if length and length.strip().isdigit() and int(length) > max_bytes:
        raise FetchTooLarge(f"the {what} is larger than {max_bytes} bytes")
    parts: list[bytes] = []
    size = 0
    async for chunk in response.aiter_stream():
        size += len(chunk)
        if size > max_bytes:
            raise FetchTooLarge(f"the {what} is larger than {max_bytes} bytes")
        parts.append(chunk)
    return b"".join(parts)
