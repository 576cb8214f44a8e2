"""`GET /v1/files/{id}/preview` (only files used in a message of the calling app) and the
signed, expiring `/files/{id}/file-preview` URLs."""

import contextlib
import os
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.core.config import get_settings
from app.services.files.signing import _sign
from tests.support.dsl import auth, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.files import PNG, files_app, stored_files, upload, use_tmp_storage

MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(autouse=True)
def storage_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return use_tmp_storage(monkeypatch, tmp_path)


async def _used_file(
    client: httpx.AsyncClient, key: str, content: bytes = PNG, name: str = "photo.png",
    mime: str = "image/png", kind: str = "image",
) -> str:  # fmt: skip
    file_id: str = (await upload(client, key, content, name, mime)).json()["id"]
    entry = {"type": kind, "transfer_method": "local_file", "upload_file_id": file_id}
    body = {"inputs": {}, "query": "look", "user": "alice", "files": [entry]}
    body["auto_generate_name"] = False
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    return file_id


async def test_preview_serves_files_used_in_this_apps_messages(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(files_app())
    unused = (await upload(client, key)).json()["id"]
    resp = await client.get(f"/v1/files/{unused}/preview", headers=auth(key))
    assert resp.status_code == 404
    assert resp.json() == {
        "code": "file_not_found",
        "message": "File not found in message context",
        "status": 404,
    }
    file_id = await _used_file(client, key)
    resp = await client.get(f"/v1/files/{file_id}/preview", headers=auth(key))
    assert resp.status_code == 200
    assert resp.content == PNG
    assert resp.headers["content-type"] == "image/png"
    assert resp.headers["content-length"] == str(len(PNG))
    assert resp.headers["cache-control"] == "public, max-age=3600"
    assert "content-disposition" not in resp.headers

    resp = await client.get(
        f"/v1/files/{file_id}/preview",
        params={"as_attachment": "true", "user": "alice"},
        headers=auth(key),
    )
    assert resp.headers["content-type"] == "application/octet-stream"
    assert resp.headers["content-disposition"] == "attachment; filename*=UTF-8''photo.png"


async def test_other_apps_are_denied(client: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    _, key = await make_app(files_app())
    _, other = await make_app(files_app(name="Other"))
    file_id = await _used_file(client, key)
    resp = await client.get(f"/v1/files/{file_id}/preview", headers=auth(other))
    assert resp.status_code == 403
    assert resp.json()["code"] == "file_access_denied"


async def test_unknown_and_malformed_ids(client: httpx.AsyncClient) -> None:
    _, key = await make_app(files_app())
    resp = await client.get(f"/v1/files/{MISSING}/preview", headers=auth(key))
    assert resp.status_code == 404 and resp.json()["code"] == "file_not_found"
    resp = await client.get("/v1/files/not-a-uuid/preview", headers=auth(key))
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"
    assert (await client.get(f"/v1/files/{MISSING}/preview")).status_code == 401


async def test_html_is_always_a_download(client: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    _, key = await make_app(files_app())
    page = b"<html><script>alert(1)</script></html>"
    file_id = await _used_file(client, key, page, "page.html", "text/html", "document")
    resp = await client.get(f"/v1/files/{file_id}/preview", headers=auth(key))
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/octet-stream"
    assert resp.headers["content-disposition"].startswith("attachment;")


async def test_signed_urls(client: httpx.AsyncClient, storage_root: Path) -> None:
    _, key = await make_app(files_app())
    body = (await upload(client, key)).json()
    url = body["source_url"]
    resp = await client.get(url)
    assert resp.status_code == 200 and resp.content == PNG
    assert resp.headers["content-type"] == "image/png"

    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    invalid = {"code": "not_found", "message": "File not found or signature is invalid"}
    tampered = {**query, "sign": query["sign"][:-4] + "AAA="}
    resp = await client.get(f"/files/{body['id']}/file-preview", params=tampered)
    assert resp.status_code == 404 and resp.json() == {**invalid, "status": 404}
    # A signature is bound to its file and to its kind.
    other = (await upload(client, key)).json()["id"]
    assert (await client.get(f"/files/{other}/file-preview", params=query)).status_code == 404
    assert (await client.get(f"/files/{body['id']}/image-preview", params=query)).status_code == 404
    # Expired: a correct signature over a timestamp older than FILES_ACCESS_TIMEOUT.
    old = str(int(time.time()) - get_settings().files_access_timeout - 5)
    sign = _sign(get_settings(), "file-preview", body["id"], old, query["nonce"])
    expired = {"timestamp": old, "nonce": query["nonce"], "sign": sign}
    assert (
        await client.get(f"/files/{body['id']}/file-preview", params=expired)
    ).status_code == 404
    fresh = {**expired, "timestamp": str(int(time.time()))}
    fresh["sign"] = _sign(get_settings(), "file-preview", body["id"], fresh["timestamp"], "n")
    fresh["nonce"] = "n"
    assert (await client.get(f"/files/{body['id']}/file-preview", params=fresh)).status_code == 200
    download = await client.get(url + "&as_attachment=true")
    assert download.headers["content-disposition"] == "attachment; filename*=UTF-8''photo.png"
    # Missing stored bytes look like a bad signature, never a 500.
    for path in stored_files(storage_root):
        path.unlink()
    assert (await client.get(url)).status_code == 404


def _release_reader(fifo: Path) -> None:
    """If a reader is stuck opening the FIFO (HEAD read it after all), let it see EOF
    instead of hanging the suite."""
    with contextlib.suppress(OSError):  # ENXIO: nobody is reading
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


async def test_head_answers_headers_without_reading_the_file(
    client: httpx.AsyncClient, upstream: FakeUpstream, storage_root: Path
) -> None:
    """HEAD (served by every GET route, as Werkzeug does) gives the preview's headers. The
    stored object is swapped for a FIFO with no writer: reading it would block forever, so
    a prompt answer shows HEAD only checked that it exists."""
    _, key = await make_app(files_app())
    file_id = await _used_file(client, key)
    signed = (await upload(client, key)).json()["source_url"]
    urls = [(f"/v1/files/{file_id}/preview", auth(key)), (signed, {})]
    full = {url: await client.get(url, headers=headers) for url, headers in urls}
    stored = stored_files(storage_root)
    for path in stored:
        path.unlink()
        os.mkfifo(path)
    try:
        for url, headers in urls:
            resp = await client.head(url, headers=headers, timeout=20)
            assert resp.status_code == 200 and resp.content == b""
            for name in ("content-type", "content-length", "x-content-type-options"):
                assert resp.headers[name] == full[url].headers[name], name
    finally:
        for path in stored:
            _release_reader(path)
            path.unlink()
    for url, headers in urls:
        assert (await client.head(url, headers=headers)).status_code == 404
