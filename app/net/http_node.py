"""Outbound HTTP for workflow http-request nodes (the engine's `HttpCaller`), behind the same
SSRF guard as remote files (app/net/fetch.py).

httpx only encodes the request (query, form, multipart, headers); the exchange goes over an
httpcore pool whose connections are pinned to the address the guard approved after DNS
resolution. Redirects are followed by hand as httpx follows them (method and body rules,
`Authorization` and `Cookie` dropped across origins), every hop re-checked. The body is
capped while it is read, gzip/deflate bodies are decoded under the same cap, and the whole
exchange is bounded by the sum of the connect, read and write timeouts. No proxy settings
from the environment are honoured (a proxy would bypass the pin)."""

import functools
import re
import ssl
import zlib
from dataclasses import dataclass

import httpcore
import httpx

from app.core.config import Settings
from app.net.fetch import (
    REDIRECT_STATUSES,
    FetchError,
    FetchTooLarge,
    PinnedBackend,
    guarded,
    parse_url,
    read_capped,
)
from app.net.ssrf import AllowList, checked_address

USER_AGENT = "Kiln-HttpRequest/1.0"
MAX_REDIRECTS = 20  # httpx's default when following redirects
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an HTTP header name (RFC 9110)

FileField = tuple[str, tuple[str, bytes, str]]  # (field, (filename, content, mime type))


@dataclass(frozen=True, slots=True)
class HttpReply:
    status_code: int
    headers: dict[str, str]  # lower-cased names; repeated headers joined with ", "
    content: bytes  # decoded from gzip/deflate when the server compressed it
    content_type: str


class GuardedHttpCaller:
    """`HttpCaller` (app/engine/workflow/env.py) over the SSRF guard. Failures raise
    FetchError subclasses (FetchBlocked, FetchTimeout, FetchTooLarge) with safe texts."""

    def __init__(self, allow: AllowList | None = None, max_redirects: int = MAX_REDIRECTS) -> None:
        self._allow = allow or AllowList()
        self._max_redirects = max_redirects

    @classmethod
    def from_settings(cls, settings: Settings) -> "GuardedHttpCaller":
        return cls(AllowList.parse(settings.ssrf_allowed_hosts))

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        params: list[tuple[str, str]],
        content: bytes | None,
        files: list[FileField] | None,
        data: dict[str, str] | None,
        timeouts: tuple[float, float, float],
        max_size: int,
        verify: bool,
    ) -> HttpReply:
        first = _build(method, url, headers, params, content, files, data)
        connect, read, write = timeouts
        async with guarded(connect + read + write):
            return await self._exchange(first, timeouts, max_size, verify)
        raise AssertionError("unreachable")  # guarded() re-raises every failure

    async def _exchange(
        self,
        request: httpx.Request,
        timeouts: tuple[float, float, float],
        max_size: int,
        verify: bool,
    ) -> HttpReply:
        connect, read, write = timeouts
        timeout = {"connect": connect, "read": read, "write": write, "pool": connect}
        backend = PinnedBackend()
        async with httpcore.AsyncConnectionPool(
            ssl_context=_ssl_context(verify), network_backend=backend, retries=0
        ) as pool:
            for _hop in range(self._max_redirects + 1):
                url = parse_url(str(request.url))
                host = url.raw_host.decode("ascii")
                port = url.port or (443 if url.scheme == "https" else 80)
                backend.pins[host] = await checked_address(host, port, self._allow)
                target = httpcore.URL(
                    scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
                )
                async with pool.stream(
                    request.method.encode("ascii"),
                    target,
                    headers=request.headers.raw,
                    content=request.content,
                    extensions={"timeout": timeout},
                ) as response:
                    location = _header(response.headers, b"location")
                    if response.status in REDIRECT_STATUSES and location:
                        request = _redirected(request, response.status, location)
                        continue
                    body = await read_capped(response, max_size, "response")
                    reply_headers = _headers(response.headers)
                    encoding = reply_headers.get("content-encoding", "")
                    return HttpReply(
                        status_code=response.status,
                        headers=reply_headers,
                        content=_decoded(body, encoding, max_size),
                        content_type=reply_headers.get("content-type", ""),
                    )
        raise FetchError(f"more than {self._max_redirects} redirects")


def _build(
    method: str,
    url: str,
    headers: dict[str, str],
    params: list[tuple[str, str]],
    content: bytes | None,
    files: list[FileField] | None,
    data: dict[str, str] | None,
) -> httpx.Request:
    parse_url(url)  # only http(s) with a host
    defaults = {"accept": "*/*", "accept-encoding": "gzip, deflate", "user-agent": USER_AGENT}
    raw: list[tuple[bytes, bytes]] = []
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name):
            raise FetchError(f"invalid header name {name!r}")
        if any(c in value for c in "\r\n\0"):
            raise FetchError(f"invalid value for header {name!r}")
        defaults.pop(name.lower(), None)
        # Values as UTF-8: httpx would refuse non-ASCII text outright.
        raw.append((name.encode("ascii"), value.encode("utf-8")))
    first = [(name.encode("ascii"), value.encode("ascii")) for name, value in defaults.items()]
    sent = httpx.Headers(first + raw)
    try:
        target = httpx.URL(url)
        if params:  # merged into the URL's own query, as httpx before 0.28 did for Dify
            target = target.copy_merge_params(tuple(params))
        request = httpx.Request(
            method.upper(),
            target,
            headers=sent,
            content=content if content else None,
            data=data if data is not None else None,
            files=files or None,
        )
        request.read()
    except (httpx.InvalidURL, TypeError, ValueError, UnicodeError) as exc:
        raise FetchError(f"invalid request: {exc}") from None
    return request


def _redirected(request: httpx.Request, status: int, location: str) -> httpx.Request:
    """The next hop's request, by httpx's rules."""
    try:
        url = request.url.join(location)
    except httpx.InvalidURL:
        raise FetchError("redirect to an invalid URL") from None
    parse_url(str(url))
    method = request.method
    if (status in (302, 303) and method != "HEAD") or (status == 301 and method == "POST"):
        method = "GET"
    headers = httpx.Headers(request.headers)
    if not _same_origin(url, request.url):
        upgrade = request.url.scheme == "http" and url.scheme == "https"
        if not (upgrade and url.host == request.url.host):  # same host, now over TLS
            headers.pop("Authorization", None)
        headers["Host"] = url.netloc.decode("ascii")
    headers.pop("Cookie", None)
    content: bytes | None = request.content
    if method != request.method and method == "GET":
        for name in ("Content-Length", "Content-Type", "Transfer-Encoding"):
            headers.pop(name, None)
        content = None
    return httpx.Request(method, url, headers=headers, content=content)


def _same_origin(one: httpx.URL, other: httpx.URL) -> bool:
    return one.scheme == other.scheme and one.host == other.host and one.port == other.port


@functools.cache
def _ssl_context(verify: bool) -> ssl.SSLContext:
    """One context per setting (loading the CA store is not free)."""
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """As httpx's `dict(response.headers)`: lower-cased names, repeats joined."""
    found: dict[str, str] = {}
    for key, value in raw:
        name = key.decode("latin-1").lower()
        text = value.decode("utf-8", "replace")
        found[name] = f"{found[name]}, {text}" if name in found else text
    return found


def _decoded(body: bytes, encoding: str, max_size: int) -> bytes:
    """A gzip or deflate body decompressed, refused past `max_size` (a small compressed
    body can expand enormously); any other encoding is handed on as it came."""
    kind = encoding.strip().lower()
    if not body or kind not in ("gzip", "x-gzip", "deflate"):
        return body
    wbits = zlib.MAX_WBITS | 16 if kind != "deflate" else zlib.MAX_WBITS
    try:
        return _inflate(body, wbits, max_size)
    except zlib.error:
        if kind != "deflate":
            raise FetchError("bad response: the gzip body cannot be decoded") from None
    try:  # servers send raw deflate streams without the zlib header too
        return _inflate(body, -zlib.MAX_WBITS, max_size)
    except zlib.error:
        raise FetchError("bad response: the deflate body cannot be decoded") from None


def _inflate(body: bytes, wbits: int, max_size: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    out = inflater.decompress(body, max_size + 1)
    if len(out) > max_size:
        raise FetchTooLarge(f"the response is larger than {max_size} bytes")
    return out
