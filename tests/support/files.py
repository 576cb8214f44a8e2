"""Helpers for the file tests: tiny real files, raw multipart bodies, isolated storage, a
loopback HTTP server for remote files, and apps with the file-upload feature."""

import asyncio
import base64
import contextlib
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.config import get_settings
from tests.support.dsl import auth, chat_dsl

# A valid 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def use_tmp_storage(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Point the running server's storage at a fresh directory."""
    root = tmp_path / "storage"
    monkeypatch.setattr(get_settings(), "storage_path", str(root))
    monkeypatch.setattr(get_settings(), "storage_type", "local")
    return root


def stored_files(root: Path) -> list[Path]:
    """Every file under the storage root, partial writes included."""
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def multipart(parts: list[tuple[dict[str, str], bytes]], boundary: str = "kilnboundary") -> bytes:
    """A raw multipart/form-data body: each part is (headers, content)."""
    out = b""
    for headers, content in parts:
        out += f"--{boundary}\r\n".encode()
        for name, value in headers.items():
            out += f"{name}: {value}\r\n".encode()
        out += b"\r\n" + content + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def file_part(
    content: bytes,
    filename: str = "a.png",
    content_type: str | None = "image/png",
    name: str = "file",
) -> tuple[dict[str, str], bytes]:
    headers = {"Content-Disposition": f'form-data; name="{name}"; filename="{filename}"'}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers, content


def field_part(name: str, value: str) -> tuple[dict[str, str], bytes]:
    return {"Content-Disposition": f'form-data; name="{name}"'}, value.encode()


async def upload(
    client: httpx.AsyncClient,
    key: str,
    content: bytes = PNG,
    filename: str = "photo.png",
    mime: str = "image/png",
    user: str = "alice",
) -> httpx.Response:
    files = {"file": (filename, content, mime)}
    return await client.post(
        "/v1/files/upload", files=files, data={"user": user}, headers=auth(key)
    )


def files_app(name: str = "Files App", **file_upload: Any) -> str:
    """A chat app (OpenAI model, answered by the fake upstream) with file uploads on."""
    config = {
        "enabled": True,
        "allowed_file_types": ["image", "document"],
        "allowed_file_extensions": [],
        "allowed_file_upload_methods": ["local_file", "remote_url"],
        "number_limits": 3,
        "image": {"detail": "low"},
        **file_upload,
    }
    return chat_dsl(provider="openai", model="gpt-4o-mini", name=name, file_upload=config)


Handler = Callable[[BaseHTTPRequestHandler], None]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # Kiln cuts oversize and slow bodies short on purpose: a broken pipe is expected.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@contextlib.contextmanager
def loopback_http(handler: Handler) -> Iterator[str]:
    """A tiny HTTP server on 127.0.0.1 (own thread); yields its base URL."""

    class _Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            handler(self)

        def log_message(self, *args: Any) -> None:
            pass

    server = _QuietServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.05)
    return False
