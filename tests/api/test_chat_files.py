"""`files` in chat and completion requests: checked against the app's `file_upload` config as
Dify checks them, images sent to the model as parts before the text, `message_files` kept
and listed by GET /v1/messages."""

import base64
import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.config import get_settings
from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.files import PDF, PNG, files_app, loopback_http, upload, use_tmp_storage


@pytest.fixture(autouse=True)
def storage_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return use_tmp_storage(monkeypatch, tmp_path)


async def _chat(
    client: httpx.AsyncClient,
    key: str,
    files: list[Any],
    query: str = "What is this?",
    **extra: Any,
) -> httpx.Response:
    body = {
        "inputs": {},
        "query": query,
        "user": "alice",
        "files": files,
        "auto_generate_name": False,
        **extra,
    }
    return await client.post("/v1/chat-messages", json=body, headers=auth(key))


def _local(file_id: str, kind: str = "image") -> dict[str, str]:
    return {"type": kind, "transfer_method": "local_file", "upload_file_id": file_id}


def _generations(upstream: FakeUpstream) -> list[dict[str, Any]]:
    """Generation calls only: another test's background title request may land late."""
    return [r for r in upstream.requests if "First message: " not in json.dumps(r["messages"])]


def _user_content(upstream: FakeUpstream) -> Any:
    return _generations(upstream)[-1]["messages"][-1]["content"]


async def test_image_goes_to_the_model_before_the_text(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(files_app())
    file_id = (await upload(client, key)).json()["id"]
    resp = await _chat(client, key, [_local(file_id)])
    assert resp.status_code == 200, resp.text
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert _user_content(upstream) == [
        {"type": "image_url", "image_url": {"url": data_url, "detail": "low"}},
        {"type": "text", "text": "What is this?"},
    ]
    listed = await client.get(
        "/v1/messages",
        params={"conversation_id": resp.json()["conversation_id"], "user": "alice"},
        headers=auth(key),
    )
    [item] = listed.json()["data"]
    [message_file] = item["message_files"]
    assert message_file["upload_file_id"] == file_id
    assert message_file["filename"] == "photo.png"
    assert message_file["type"] == "image"
    assert message_file["transfer_method"] == "local_file"
    assert message_file["belongs_to"] == "user"
    assert message_file["mime_type"] == "image/png"
    assert message_file["size"] == len(PNG)
    assert message_file["url"].startswith(f"/files/{file_id}/file-preview?timestamp=")
    preview = await client.get(message_file["url"])
    assert preview.status_code == 200 and preview.content == PNG


async def test_files_are_ignored_when_the_feature_is_off(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(chat_dsl(provider="openai", model="gpt-4o-mini"))
    file_id = (await upload(client, key)).json()["id"]
    resp = await _chat(client, key, [_local(file_id), {"transfer_method": "bogus"}])
    assert resp.status_code == 200, resp.text
    assert _user_content(upstream) == "What is this?"
    listed = await client.get(
        "/v1/messages",
        params={"conversation_id": resp.json()["conversation_id"], "user": "alice"},
        headers=auth(key),
    )
    assert listed.json()["data"][0]["message_files"] == []


async def test_entries_without_a_method_or_url_are_dropped(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(files_app())
    dropped = [{"type": "image"}, {"type": "image", "transfer_method": "remote_url"}]
    resp = await _chat(client, key, dropped)
    assert resp.status_code == 200, resp.text
    assert _user_content(upstream) == "What is this?"


NIL = "00000000-0000-4000-8000-000000000000"
REMOTE = "remote_url"
BAD_ENTRIES = [
    ({"transfer_method": "local_file"}, "Invalid upload file id"),
    ({"transfer_method": "local_file", "upload_file_id": "x"}, "Invalid upload file id format"),
    ({"transfer_method": "local_file", "upload_file_id": NIL}, "Invalid upload file"),
    ({"transfer_method": "pigeon", "url": "x"}, "No matching enum found for value 'pigeon'"),
    (
        {"type": "hologram", "transfer_method": REMOTE, "url": "https://e.com/a.png"},
        "'hologram' is not a valid FileType",
    ),
    (
        {"transfer_method": REMOTE, "url": "file:///etc/passwd"},
        "Invalid file url: only http and https URLs are allowed",
    ),
]


@pytest.mark.parametrize(("entry", "message"), BAD_ENTRIES)
async def test_bad_entries_are_400(
    client: httpx.AsyncClient, upstream: FakeUpstream, entry: dict[str, str], message: str
) -> None:
    _, key = await make_app(files_app())
    resp = await _chat(client, key, [entry])
    assert resp.status_code == 400
    assert resp.json() == {"code": "invalid_param", "message": message, "status": 400}
    assert _generations(upstream) == []


async def test_another_apps_upload_is_invalid(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(files_app())
    _, other_key = await make_app(files_app(name="Other"))
    foreign = (await upload(client, other_key)).json()["id"]
    resp = await _chat(client, key, [_local(foreign)])
    assert resp.status_code == 400
    assert resp.json()["message"] == "Invalid upload file"


async def test_type_method_and_count_limits(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(
        files_app(allowed_file_types=["image"], allowed_file_upload_methods=["local_file"],
                  number_limits=2)
    )  # fmt: skip
    image = (await upload(client, key)).json()["id"]
    doc = (await upload(client, key, PDF, "report.pdf", "application/pdf")).json()["id"]
    resp = await _chat(client, key, [_local(doc, "document")])
    assert resp.json()["message"] == "File validation failed for file: report.pdf"
    remote = {"type": "image", "transfer_method": "remote_url", "url": "https://e.com/a.png"}
    resp = await _chat(client, key, [remote])
    assert resp.json()["message"] == "File validation failed for file: a.png"
    resp = await _chat(client, key, [_local(image)] * 3)
    assert resp.status_code == 400
    assert resp.json()["message"] == "Number of image files exceeds the maximum limit 2"
    assert _generations(upstream) == []
    ok = await _chat(client, key, [_local(image)] * 2)
    assert ok.status_code == 200, ok.text
    assert [p["type"] for p in _user_content(upstream)] == ["image_url", "image_url", "text"]


async def test_custom_files_need_an_allowed_extension(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(
        files_app(allowed_file_types=["custom"], allowed_file_extensions=[".CSV"])
    )
    csv = (await upload(client, key, b"a,b\n1,2\n", "t.csv", "text/csv")).json()["id"]
    txt = (await upload(client, key, b"hello", "t.txt", "text/plain")).json()["id"]
    ok = await _chat(client, key, [_local(csv, "custom")])
    assert ok.status_code == 200, ok.text
    bad = await _chat(client, key, [_local(txt, "custom")])
    assert bad.json()["message"] == "File validation failed for file: t.txt"


async def test_documents_the_provider_does_not_read_are_recorded_but_not_sent(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(files_app())
    doc = (await upload(client, key, b"notes", "report.txt", "text/plain")).json()["id"]
    resp = await _chat(client, key, [_local(doc, "document")])
    assert resp.status_code == 200, resp.text
    assert _user_content(upstream) == "What is this?"  # OpenAI reads PDFs only
    listed = await client.get(
        "/v1/messages",
        params={"conversation_id": resp.json()["conversation_id"], "user": "alice"},
        headers=auth(key),
    )
    [message_file] = listed.json()["data"][0]["message_files"]
    assert message_file["type"] == "document"
    assert message_file["filename"] == "report.txt"


async def test_legacy_image_only_config(client: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    legacy = {
        "image": {
            "enabled": True,
            "number_limits": 1,
            "detail": "high",
            "transfer_methods": ["local_file"],
        }
    }
    _, key = await make_app(chat_dsl(provider="openai", model="gpt-4o-mini", file_upload=legacy))
    image = (await upload(client, key)).json()["id"]
    ok = await _chat(client, key, [_local(image)])
    assert ok.status_code == 200, ok.text
    assert _user_content(upstream)[0]["image_url"]["detail"] == "high"
    too_many = await _chat(client, key, [_local(image), _local(image)])
    assert too_many.json()["message"] == "Number of image files exceeds the maximum limit 1"


async def test_completion_app_sends_images(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    dsl = chat_dsl(
        mode="completion",
        provider="openai",
        model="gpt-4o-mini",
        pre_prompt="Describe {{thing}}",
        form=[{"text-input": {"variable": "thing", "label": "thing", "required": True}}],
        file_upload={"enabled": True, "allowed_file_types": ["image"], "number_limits": 3},
    )
    _, key = await make_app(dsl)
    image = (await upload(client, key)).json()["id"]
    body = {"inputs": {"thing": "it"}, "user": "alice", "files": [_local(image)]}
    resp = await client.post("/v1/completion-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    content = _user_content(upstream)
    assert content[0]["type"] == "image_url" and content[0]["image_url"]["detail"] == "high"
    assert content[1]["type"] == "text" and "Describe it" in content[1]["text"]


def _serve_png(handler: BaseHTTPRequestHandler) -> None:
    if handler.path == "/cat.png":
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.send_header("Content-Length", str(len(PNG)))
        handler.end_headers()
        handler.wfile.write(PNG)
    else:
        handler.send_response(302)
        handler.send_header("Location", "http://169.254.169.254/latest/meta-data/")
        handler.end_headers()


async def test_remote_images_are_fetched_through_the_guard(
    client: httpx.AsyncClient, upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, key = await make_app(files_app())
    with loopback_http(_serve_png) as base:
        remote = {"type": "image", "transfer_method": "remote_url", "url": f"{base}/cat.png"}
        blocked = await _chat(client, key, [remote])
        assert blocked.status_code == 400
        assert blocked.json()["message"].startswith(f"Failed to fetch file from {base}/cat.png")
        assert "disallowed address (127.0.0.1)" in blocked.json()["message"]
        assert _generations(upstream) == []

        monkeypatch.setattr(get_settings(), "ssrf_allowed_hosts", "127.0.0.1/32")
        ok = await _chat(client, key, [remote])
        assert ok.status_code == 200, ok.text
        data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
        assert _user_content(upstream)[0]["image_url"]["url"] == data_url

        redirected = {**remote, "url": f"{base}/elsewhere.png"}
        refused = await _chat(client, key, [redirected])
        assert refused.status_code == 400
        assert "169.254.169.254" in refused.json()["message"]
    listed = await client.get(
        "/v1/messages",
        params={"conversation_id": ok.json()["conversation_id"], "user": "alice"},
        headers=auth(key),
    )
    [message_file] = listed.json()["data"][0]["message_files"]
    assert message_file["transfer_method"] == "remote_url"
    assert message_file["url"] == f"{base}/cat.png"
    assert message_file["upload_file_id"] is None
    assert message_file["filename"] == "cat.png"


async def test_url_send_format_passes_remote_urls_through(
    client: httpx.AsyncClient, upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "multimodal_send_format", "url")
    _, key = await make_app(files_app())
    remote = {"type": "image", "transfer_method": "remote_url", "url": "https://e.com/a.png"}
    resp = await _chat(client, key, [remote])
    assert resp.status_code == 200, resp.text
    assert _user_content(upstream)[0]["image_url"]["url"] == "https://e.com/a.png"
