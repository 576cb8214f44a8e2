"""The SSRF guard for remote files: addresses judged after DNS resolution, the checked
address pinned for the connection, every redirect hop re-checked, size and time capped,
only http(s), and the operator allow-list. Traffic only ever goes to 127.0.0.1."""

import ipaddress
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpcore
import pytest

from app.net import fetch as fetch_module
from app.net.fetch import FetchBlocked, FetchError, FetchPolicy, FetchTimeout, FetchTooLarge, fetch
from app.net.ssrf import AllowList, is_public
from tests.support.files import PNG, loopback_http

LOOPBACK_ONLY = AllowList.parse("127.0.0.1/32")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
        "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1",
        "fc00::1", "fd00:ec2::254", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
        "64:ff9b::a00:1", "2002:7f00:1::", "ff02::1",
    ],
)  # fmt: skip
def test_inward_addresses_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111"])
def test_public_addresses(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


def test_allow_list_parsing() -> None:
    allow = AllowList.parse(" files.internal , 10.1.0.0/16,172.17.0.1 ,")
    assert allow.allows_host("FILES.internal.")
    assert allow.allows_address(ipaddress.ip_address("10.1.2.3"))
    assert allow.allows_address(ipaddress.ip_address("172.17.0.1"))
    assert not allow.allows_address(ipaddress.ip_address("10.2.0.1"))


class Recorder:
    """Counts requests reaching the loopback server and what they looked like."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address the fetcher opens a TCP connection to."""
    seen: list[str] = []
    original = httpcore.AnyIOBackend.connect_tcp

    async def recording(self: Any, host: str, port: int, *args: Any, **kw: Any) -> Any:
        seen.append(host)
        return await original(self, host, port, *args, **kw)

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", recording)
    return seen


@pytest.fixture
def site() -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder()

    def handle(h: BaseHTTPRequestHandler) -> None:
        recorder.requests.append((h.path, h.headers.get("Host")))
        routes = {
            "/to-private": "http://10.0.0.1/secret",
            "/to-metadata": "http://169.254.169.254/latest/meta-data/",
            "/loop": "/loop",
            "/to-file": "file:///etc/passwd",
        }
        if h.path in routes:
            h.send_response(302)
            h.send_header("Location", routes[h.path])
            h.end_headers()
        elif h.path == "/big":
            h.send_response(200)
            h.send_header("Content-Length", str(10_000_000))
            h.end_headers()
        elif h.path == "/big-unannounced":
            h.send_response(200)
            h.end_headers()
            for _ in range(100):
                h.wfile.write(b"x" * 10_000)
        elif h.path == "/slow":
            h.send_response(200)
            h.end_headers()
            for _ in range(300):
                h.wfile.write(b"x")
                h.wfile.flush()
                time.sleep(0.1)
        else:
            h.send_response(200)
            h.send_header("Content-Type", "image/png")
            h.send_header("Content-Length", str(len(PNG)))
            h.end_headers()
            h.wfile.write(PNG)

    with loopback_http(handle) as base:
        yield base, recorder


def _policy(allow: AllowList = LOOPBACK_ONLY, **kw: Any) -> FetchPolicy:
    return FetchPolicy(max_bytes=kw.pop("max_bytes", 1_000_000), timeout=5.0, allow=allow, **kw)


async def test_allow_listed_loopback_is_fetched(site: tuple[str, Recorder]) -> None:
    base, recorder = site
    fetched = await fetch(f"{base}/cat.png", _policy())
    assert fetched.data == PNG and fetched.content_type == "image/png"
    assert len(recorder.requests) == 1


async def test_names_resolving_inward_are_refused(
    site: tuple[str, Recorder], connects: list[str]
) -> None:
    base, recorder = site
    port = base.rsplit(":", 1)[1]
    for url in (
        f"http://localhost:{port}/cat.png",  # a DNS name resolving to 127.0.0.1
        f"http://127.0.0.1:{port}/cat.png",
        f"http://[::1]:{port}/cat.png",
        f"http://2130706433:{port}/cat.png",  # 127.0.0.1, decimal
        f"http://0177.0.0.1:{port}/cat.png",  # 127.0.0.1, octal
        f"http://0.0.0.0:{port}/cat.png",
        f"http://[::ffff:127.0.0.1]:{port}/cat.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://10.0.0.1/",
    ):
        with pytest.raises(FetchBlocked):
            await fetch(url, _policy(allow=AllowList()))
    assert recorder.requests == [] and connects == []


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1:70/", "nope", "http://"]
)
async def test_only_http_and_https(url: str, connects: list[str]) -> None:
    with pytest.raises(FetchBlocked):
        await fetch(url, _policy())
    assert connects == []


@pytest.mark.parametrize(
    ("path", "target"), [("/to-private", "10.0.0.1"), ("/to-metadata", "169.254.169.254")]
)
async def test_redirects_are_rechecked(
    site: tuple[str, Recorder], connects: list[str], path: str, target: str
) -> None:
    base, recorder = site
    with pytest.raises(FetchBlocked, match=target):
        await fetch(f"{base}{path}", _policy())
    assert [p for p, _ in recorder.requests] == [path]
    assert connects == ["127.0.0.1"]  # the redirect target was never connected to


async def test_redirect_to_other_schemes(site: tuple[str, Recorder], connects: list[str]) -> None:
    base, _ = site
    with pytest.raises(FetchBlocked, match="http and https"):
        await fetch(f"{base}/to-file", _policy())
    assert set(connects) == {"127.0.0.1"}


async def test_redirects_are_bounded(site: tuple[str, Recorder]) -> None:
    base, recorder = site
    with pytest.raises(FetchError, match="more than 3 redirects"):
        await fetch(f"{base}/loop", _policy(max_redirects=3))
    assert len(recorder.requests) == 4


async def test_size_is_capped(site: tuple[str, Recorder]) -> None:
    base, _ = site
    with pytest.raises(FetchTooLarge):
        await fetch(f"{base}/big", _policy(max_bytes=1_000))
    with pytest.raises(FetchTooLarge):
        await fetch(f"{base}/big-unannounced", _policy(max_bytes=50_000))


async def test_time_is_capped_while_reading(site: tuple[str, Recorder]) -> None:
    base, _ = site
    started = time.monotonic()
    with pytest.raises(FetchTimeout):
        await fetch(f"{base}/slow", FetchPolicy(1_000_000, 0.5, LOOPBACK_ONLY))
    assert time.monotonic() - started < 10  # the whole body takes 30 s


async def test_the_checked_address_is_pinned(
    site: tuple[str, Recorder], connects: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection goes to the address the guard approved, with the request's own Host
    header: a second DNS answer (rebinding) is never consulted."""
    base, recorder = site
    port = base.rsplit(":", 1)[1]
    checked: list[str] = []

    async def approve(host: str, port: int, allow: AllowList) -> str:
        checked.append(host)
        return "127.0.0.1"

    monkeypatch.setattr(fetch_module, "checked_address", approve)
    fetched = await fetch(f"http://images.example.test:{port}/cat.png", _policy())
    assert fetched.data == PNG
    assert checked == ["images.example.test"]
    assert connects == ["127.0.0.1"]
    assert recorder.requests == [("/cat.png", f"images.example.test:{port}")]


async def test_allow_listed_host_name(site: tuple[str, Recorder]) -> None:
    base, recorder = site
    port = base.rsplit(":", 1)[1]
    fetched = await fetch(f"http://localhost:{port}/cat.png", _policy(AllowList.parse("localhost")))
    assert fetched.data == PNG
    assert recorder.requests[-1][1] == f"localhost:{port}"
