"""`POST /v1/files/upload`: Dify's fields and errors, per-class size limits enforced while
the body streams, safe storage keys, nothing left on rejection."""

import asyncio
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from app.core.config import get_settings
from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.files import (
    PDF,
    PNG,
    field_part,
    file_part,
    multipart,
    stored_files,
    upload,
    use_tmp_storage,
)

BOUNDARY_TYPE = "multipart/form-data; boundary=kilnboundary"


@pytest.fixture(autouse=True)
def storage_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return use_tmp_storage(monkeypatch, tmp_path)


@pytest.fixture
async def key(client: httpx.AsyncClient) -> str:
    _, api_key = await make_app(chat_dsl(name="Upload App"))
    return api_key


async def _raw(client: httpx.AsyncClient, key: str, body: bytes, ctype: str = BOUNDARY_TYPE):
    headers = {**auth(key), "Content-Type": ctype}
    return await client.post("/v1/files/upload", content=body, headers=headers)


async def test_upload_returns_difys_fields(
    client: httpx.AsyncClient, key: str, storage_root: Path
) -> None:
    resp = await upload(client, key, PNG, "holiday photo.PNG")
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert set(body) == {
        "id", "name", "size", "extension", "mime_type", "created_by", "created_at",
        "preview_url", "source_url", "original_url", "user_id", "tenant_id",
        "conversation_id", "file_key",
    }  # fmt: skip
    assert body["name"] == "holiday photo.PNG"
    assert body["extension"] == "png"
    assert body["size"] == len(PNG)
    assert body["mime_type"] == "image/png"
    assert body["created_by"] == body["user_id"]
    assert isinstance(body["created_at"], int)
    assert body["preview_url"] is None and body["conversation_id"] is None
    source = urlsplit(body["source_url"])
    assert source.path == f"/files/{body['id']}/file-preview"
    assert re.fullmatch(r"timestamp=\d+&nonce=[0-9a-f]{32}&sign=[A-Za-z0-9_\-=]+", source.query)
    # Stored under a uuid key, never under the client's name.
    [stored] = stored_files(storage_root)
    assert stored.read_bytes() == PNG
    assert re.fullmatch(r"[0-9a-f-]{36}\.png", stored.name)
    assert body["file_key"] == stored.relative_to(storage_root).as_posix()


async def test_user_is_optional_and_may_follow_the_file(
    client: httpx.AsyncClient, key: str, storage_root: Path
) -> None:
    body = multipart([file_part(PNG), field_part("user", "bob")])
    first = await _raw(client, key, body)
    assert first.status_code == 201, first.text
    again = await upload(client, key, user="bob")
    assert again.json()["created_by"] == first.json()["created_by"]
    anonymous = await _raw(client, key, multipart([file_part(PNG)]))
    assert anonymous.status_code == 201
    assert anonymous.json()["created_by"] != first.json()["created_by"]


@pytest.mark.parametrize(
    ("body", "ctype", "status", "code"),
    [
        (multipart([field_part("user", "a")]), BOUNDARY_TYPE, 400, "no_file_uploaded"),
        (b'{"user": "a"}', "application/json", 400, "no_file_uploaded"),
        (multipart([file_part(PNG, name="other")]), BOUNDARY_TYPE, 400, "no_file_uploaded"),
        (
            multipart([file_part(PNG), file_part(PNG, "b.png")]),
            BOUNDARY_TYPE,
            400,
            "too_many_files",
        ),
        (
            multipart([file_part(PNG, name="other"), file_part(PNG)]),
            BOUNDARY_TYPE,
            400,
            "too_many_files",
        ),
        (multipart([file_part(PNG, filename="")]), BOUNDARY_TYPE, 400, "filename_not_exists_error"),
        (
            multipart([file_part(PNG, content_type=None)]),
            BOUNDARY_TYPE,
            415,
            "unsupported_file_type",
        ),
    ],
)
async def test_bad_forms(
    client: httpx.AsyncClient,
    key: str,
    storage_root: Path,
    body: bytes,
    ctype: str,
    status: int,
    code: str,
) -> None:
    resp = await _raw(client, key, body, ctype)
    assert resp.status_code == status, resp.text
    assert resp.json()["code"] == code
    assert stored_files(storage_root) == []


async def test_messages_of_the_catalog(client: httpx.AsyncClient, key: str) -> None:
    resp = await _raw(client, key, multipart([file_part(PNG), file_part(PNG, "b.png")]))
    assert resp.json() == {
        "code": "too_many_files",
        "message": "Only one file is allowed.",
        "status": 400,
    }
    resp = await _raw(client, key, multipart([field_part("user", "a")]))
    assert resp.json()["message"] == "Please upload your file."


@pytest.mark.parametrize(
    "name", ["../../etc/passwd.png", "a/b.png", "a\\b.png", "a?.png", "a<b>.png"]
)
async def test_path_like_names_are_refused(
    client: httpx.AsyncClient, key: str, storage_root: Path, name: str
) -> None:
    resp = await upload(client, key, PNG, name)
    assert resp.status_code == 400
    assert resp.json()["code"] == "invalid_param"
    assert resp.json()["message"] == "Filename contains invalid characters"
    assert stored_files(storage_root) == []


async def test_long_names_are_cut_to_200(client: httpx.AsyncClient, key: str) -> None:
    resp = await upload(client, key, PNG, "x" * 300 + ".png")
    assert resp.status_code == 201
    assert resp.json()["name"] == "x" * 200 + ".png"


async def test_content_is_not_judged_by_its_name(
    client: httpx.AsyncClient, key: str, storage_root: Path
) -> None:
    # Dify stores any content under any name (no extension whitelist, no sniffing); a
    # preview is served with `nosniff`, so a mislabelled file cannot turn into a page.
    for content, name, mime in (
        (PDF, "fake.png", "image/png"),
        (PNG, "fake.pdf", "application/pdf"),
        (b"plain words", "notes.txt", "text/plain"),
        (b"\x00\x01", "blob.weird", "application/x-weird"),
        (b"", "empty.png", "image/png"),
    ):
        resp = await upload(client, key, content, name, mime)
        assert resp.status_code == 201, (name, resp.text)
        assert resp.json()["size"] == len(content)
    assert len(stored_files(storage_root)) == 5


async def test_size_limit_per_class(
    client: httpx.AsyncClient, key: str, storage_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "upload_image_file_size_limit", 1)
    big = PNG + b"\x00" * (1024 * 1024)
    resp = await upload(client, key, big, "big.png")
    assert resp.status_code == 413
    # Dify raises it without a message: the placeholder is part of the wire format.
    assert resp.json() == {
        "code": "file_too_large",
        "message": "File size exceeded. {message}",
        "status": 413,
    }
    assert stored_files(storage_root) == []
    # The same bytes as a document fall under the 15 MB class.
    ok = await upload(client, key, b"a" * (1024 * 1024 + 10), "big.txt", "text/plain")
    assert ok.status_code == 201
    exact = await upload(client, key, PNG + b"\x00" * (1024 * 1024 - len(PNG)), "edge.png")
    assert exact.status_code == 201


async def test_limit_is_enforced_while_the_body_streams(
    server: str, key: str, storage_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer comes before the client has sent the whole (announced) body."""
    monkeypatch.setattr(get_settings(), "upload_image_file_size_limit", 1)
    url = urlsplit(server)
    head = multipart([file_part(PNG)]).split(PNG)[0] + PNG
    announced = len(head) + 50 * 1024 * 1024
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        writer.write(
            (
                f"POST /v1/files/upload HTTP/1.1\r\nHost: {url.netloc}\r\n"
                f"Authorization: Bearer {key}\r\nContent-Type: {BOUNDARY_TYPE}\r\n"
                f"Content-Length: {announced}\r\n\r\n"
            ).encode()
            + head
        )
        for _ in range(20):  # 1.25 MB of the announced 50 MB
            writer.write(b"\x00" * 65536)
            await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
        assert b" 413 " in status_line
    finally:
        writer.close()
    await asyncio.sleep(0.1)
    assert stored_files(storage_root) == []


async def test_upload_needs_an_api_key(client: httpx.AsyncClient) -> None:
    resp = await client.post("/v1/files/upload", files={"file": ("a.png", PNG, "image/png")})
    assert resp.status_code == 401
