"""Request bodies as they arrive: the size limit (Dify's 413 before the body is read whole,
from `Content-Length` or while a chunked body streams) and a client that leaves halfway.

Raw sockets speak to the real server where httpx cannot: a body announced but never sent,
a chunked body cut at a chosen byte, a connection closed mid-body."""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlmodel import func, select

from app.core.config import get_settings
from app.core.db import session_scope
from app.models import Message
from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.files import stored_files, upload, use_tmp_storage

MB = 1024 * 1024
TOO_LARGE = {
    "code": "request_entity_too_large",
    "message": "The data value transmitted exceeds the capacity limit.",
    "status": 413,
}
OPENAI = {"provider": "openai", "model": "gpt-4o-mini"}
LEFT = "client left while sending the request body"


@pytest.fixture(autouse=True)
def storage_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return use_tmp_storage(monkeypatch, tmp_path)


@contextlib.asynccontextmanager
async def _connection(server: str) -> AsyncIterator[tuple[asyncio.StreamReader, Any]]:
    url = urlsplit(server)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def _head(server: str, path: str, key: str, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {urlsplit(server).netloc}"]
    lines += [f"Authorization: Bearer {key}"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], Any]:
    """The answer, read to the end of the connection (a 413 closes it)."""
    async with asyncio.timeout(10):
        raw = await reader.read()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, json.loads(body)


async def _messages(app_id: str) -> int:
    async with session_scope() as session:
        statement = select(func.count()).select_from(Message).where(Message.app_id == app_id)
        return int((await session.exec(statement)).one())


async def test_a_body_announced_over_the_limit_is_refused_before_it_is_sent(
    server: str, upstream: FakeUpstream
) -> None:
    app_id, key = await make_app(chat_dsl(**OPENAI))
    headers = {
        "Content-Type": "application/json",
        "Content-Length": str(50 * MB),
        "Origin": "https://example.com",
    }
    async with _connection(server) as (reader, writer):
        writer.write(_head(server, "/v1/chat-messages", key, headers))  # and no body at all
        status, response_headers, body = await _response(reader)
    assert (status, body) == (413, TOO_LARGE)
    assert response_headers["connection"] == "close"
    assert response_headers["access-control-allow-origin"] == "*"
    assert upstream.requests == [] and await _messages(app_id) == 0


async def test_a_chunked_body_is_refused_when_it_passes_the_limit(
    server: str, upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "request_body_size_limit", 1)
    app_id, key = await make_app(chat_dsl(**OPENAI))
    start = b'{"inputs": {}, "user": "big", "query": "'
    sent = start + b"q" * (MB + 1 - len(start))  # one byte past the limit, then nothing
    headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    async with _connection(server) as (reader, writer):
        writer.write(_head(server, "/v1/chat-messages", key, headers))
        writer.write(b"%x\r\n" % (2 * MB) + sent)  # a chunk announced larger than what came
        status, _, body = await _response(reader)
    assert (status, body) == (413, TOO_LARGE)
    assert upstream.requests == [] and await _messages(app_id) == 0


async def test_a_body_within_the_limit_is_kept_whole(
    client: httpx.AsyncClient, upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "request_body_size_limit", 1)
    # A model whose context Kiln does not know: the prompt is not judged by its length.
    _, key = await make_app(chat_dsl(provider="openai", model="long-context-model"))
    query = "word " * (900 * 1024 // 5)
    body = {"inputs": {}, "query": query, "user": "big-ok", "auto_generate_name": False}
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    assert upstream.requests[-1]["messages"][-1]["content"] == query


async def test_uploads_and_audio_keep_their_own_limits(
    client: httpx.AsyncClient,
    server: str,
    storage_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A JSON limit of 1 MB leaves a 3 MB document and a 3 MB recording alone; a multipart
    body announced beyond every upload limit is refused up front."""
    monkeypatch.setattr(get_settings(), "request_body_size_limit", 1)
    monkeypatch.setattr(get_settings(), "speech_to_text_model", "kiln/echo-stt")
    _, key = await make_app(chat_dsl(speech_to_text={"enabled": True}))
    resp = await upload(client, key, b"a" * (3 * MB), "notes.txt", "text/plain")
    assert resp.status_code == 201, resp.text
    files = {"file": ("clip.wav", b"RIFF" + b"\x00" * (3 * MB), "audio/wav")}
    resp = await client.post(
        "/v1/audio-to-text", data={"user": "u"}, files=files, headers=auth(key)
    )
    assert resp.status_code == 200, resp.text

    headers = {
        "Content-Type": "multipart/form-data; boundary=kilnboundary",
        "Content-Length": str(200 * MB),
    }
    async with _connection(server) as (reader, writer):
        writer.write(_head(server, "/v1/files/upload", key, headers))
        status, _, body = await _response(reader)
    assert (status, body) == (413, TOO_LARGE)
    assert len(stored_files(storage_root)) == 1


@contextlib.contextmanager
def _server_log(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Everything the in-process server logs, uvicorn's own loggers included (they do not
    propagate to the root logger)."""
    uvicorn_logger = logging.getLogger("uvicorn")
    uvicorn_logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.DEBUG):
            yield
    finally:
        uvicorn_logger.removeHandler(caplog.handler)


async def _until_handled(caplog: pytest.LogCaptureFixture) -> None:
    """Wait (bounded) until the server has dealt with the abandoned request: it logs the
    departure at DEBUG, or (before the fix) an error."""
    async with asyncio.timeout(10):
        while not any(r.levelno >= logging.ERROR or LEFT in r.getMessage() for r in caplog.records):
            await asyncio.sleep(0.02)


@pytest.mark.parametrize("kind", ["json", "upload"])
async def test_a_client_leaving_mid_body_is_not_an_error(
    server: str, storage_root: Path, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    app_id, key = await make_app(chat_dsl())
    if kind == "json":
        path, content_type = "/v1/chat-messages", "application/json"
        part = b'{"inputs": {}, "query": "hal'
    else:
        path, content_type = "/v1/files/upload", "multipart/form-data; boundary=kilnboundary"
        part = (
            b'--kilnboundary\r\nContent-Disposition: form-data; name="file"; '
            b'filename="a.txt"\r\nContent-Type: text/plain\r\n\r\n' + b"a" * 70000
        )
    headers = {"Content-Type": content_type, "Content-Length": str(len(part) + 1000)}
    with _server_log(caplog):
        async with _connection(server) as (_, writer):
            writer.write(_head(server, path, key, headers) + part)
            await writer.drain()
        await _until_handled(caplog)
    problems = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert problems == [], caplog.text
    assert "Traceback" not in caplog.text
    assert any(LEFT in r.getMessage() and r.levelno == logging.DEBUG for r in caplog.records)
    assert await _messages(app_id) == 0
    assert stored_files(storage_root) == []
