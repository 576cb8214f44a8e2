"""NUL characters in client text. PostgreSQL cannot store them, so Kiln refuses them with
Dify's 400 `invalid_param` before anything is written, on every database alike; chat
`inputs` and `query` are the exception: Dify strips NUL from them, and so does Kiln."""

from pathlib import Path

import httpx
import pytest

from app.core.db import session_scope
from app.core.nul import NUL_REFUSED
from app.models import Conversation, Message
from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.files import (
    PNG,
    files_app,
    multipart,
    stored_files,
    upload,
    use_tmp_storage,
)

REFUSED = {"code": "invalid_param", "message": NUL_REFUSED, "status": 400}
FORM = [{"text-input": {"variable": "name", "label": "Name", "required": True}}]


@pytest.fixture(autouse=True)
def storage_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return use_tmp_storage(monkeypatch, tmp_path)


async def _annotations(client: httpx.AsyncClient, key: str) -> int:
    resp = await client.get("/v1/apps/annotations", headers=auth(key))
    return int(resp.json()["total"])


async def test_json_bodies_are_refused_and_nothing_is_written(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    for body in ({"question": "a\x00b", "answer": "x"}, {"question": "q", "answer": "x\x00"}):
        resp = await client.post("/v1/apps/annotations", json=body, headers=auth(key))
        assert (resp.status_code, resp.json()) == (400, REFUSED)
    assert await _annotations(client, key) == 0
    chat = {"inputs": {}, "query": "hi", "user": "nul\x00user", "response_mode": "blocking"}
    resp = await client.post("/v1/chat-messages", json=chat, headers=auth(key))
    assert (resp.status_code, resp.json()) == (400, REFUSED)
    files = [{"type": "image", "transfer_method": "local_file", "upload_file_id": "a\x00"}]
    resp = await client.post(
        "/v1/chat-messages", json=chat | {"user": "u", "files": files}, headers=auth(key)
    )
    assert (resp.status_code, resp.json()) == (400, REFUSED)
    resp = await client.get("/v1/conversations", params={"user": "nul\x00user"}, headers=auth(key))
    assert (resp.status_code, resp.json()) == (400, REFUSED)


async def test_fields_dify_ignores_or_checks_first_keep_their_answers(
    client: httpx.AsyncClient,
) -> None:
    """Only the fields a request keeps are refused, after the checks Dify makes first; an
    ignored field holding NUL (however deeply nested) changes nothing."""
    _, key = await make_app(chat_dsl())
    deep = "[" * 1000 + '"\\u0000"' + "]" * 1000  # as deep as orjson reads
    body = '{"question": "q", "answer": "a", "note": "\\u0000", "deep": ' + deep + "}"
    headers = auth(key) | {"Content-Type": "application/json"}
    resp = await client.post("/v1/apps/annotations", content=body, headers=headers)
    assert resp.status_code == 201, resp.text
    chat = '{"inputs": {}, "query": "q", "user": "u", "files": [' + deep + "]}"
    resp = await client.post("/v1/chat-messages", content=chat, headers=headers)
    assert resp.status_code == 400, resp.text  # a kept field, walked without recursion
    stop = "/v1/chat-messages/some-task/stop"
    resp = await client.post(stop, json={"user": "u", "x": "\x00"}, headers=auth(key))
    assert resp.json() == {"result": "success"}
    resp = await client.post(stop, json={"x": "\x00"}, headers=auth(key))
    assert resp.json()["message"] == "Arg user must be provided."


async def test_query_strings_are_refused(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    for path, params in (
        ("/v1/apps/annotations", {"keyword": "a\x00"}),
        ("/v1/conversations", {"user": "u\x00"}),
        ("/v1/messages/00000000-0000-4000-8000-000000000000/suggested", {"user": "u\x00"}),
        ("/v1/conversations/00000000-0000-4000-8000-000000000000/variables", {"user": "\x00"}),
    ):
        resp = await client.get(path, params=params, headers=auth(key))
        assert (resp.status_code, resp.json()) == (400, REFUSED), path
    for path, params in (  # Dify's own checks come first: not a UUID, not a number
        ("/v1/conversations", {"user": "u", "last_id": "\x00"}),
        ("/v1/messages", {"user": "u", "conversation_id": "\x00"}),
        ("/v1/app/feedbacks", {"page": "1\x00"}),
    ):
        resp = await client.get(path, params=params, headers=auth(key))
        assert resp.status_code == 400 and resp.json()["code"] == "invalid_param", path
    ignored = {"user": "u", "unknown": "\x00"}
    resp = await client.get("/v1/conversations", params=ignored, headers=auth(key))
    assert resp.status_code == 200, resp.text


async def test_chat_inputs_and_query_are_stripped_as_dify_does(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl(form=FORM))
    body = {"inputs": {"name": "Ad\x00a"}, "query": "he\x00llo", "user": "strip-u"}
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    async with session_scope() as session:
        message = await session.get(Message, resp.json()["message_id"])
        conversation = await session.get(Conversation, resp.json()["conversation_id"])
    assert message is not None and conversation is not None
    assert message.query == "hello" and conversation.inputs == {"name": "Ada"}


async def test_uploads_refuse_nul_in_the_name_or_user_and_keep_nothing(
    client: httpx.AsyncClient, storage_root: Path
) -> None:
    _, key = await make_app(files_app())
    disposition = "form-data; name=\"file\"; filename*=UTF-8''a%00b.png"  # RFC 5987
    parts = [({"Content-Disposition": disposition, "Content-Type": "image/png"}, PNG)]
    headers = auth(key) | {"Content-Type": "multipart/form-data; boundary=kilnboundary"}
    resp = await client.post("/v1/files/upload", content=multipart(parts), headers=headers)
    assert resp.status_code == 400
    assert resp.json() == {
        "code": "invalid_param",
        "message": "Filename contains invalid characters",
        "status": 400,
    }
    resp = await upload(client, key, user="al\x00ice")
    assert (resp.status_code, resp.json()) == (400, REFUSED)
    assert stored_files(storage_root) == []


async def test_upload_content_type_with_nul_is_refused(
    client: httpx.AsyncClient, storage_root: Path
) -> None:
    _, key = await make_app(files_app())
    disposition = 'form-data; name="file"; filename="a.png"'
    parts = [({"Content-Disposition": disposition, "Content-Type": "image/png\x00x"}, PNG)]
    headers = auth(key) | {"Content-Type": "multipart/form-data; boundary=kilnboundary"}
    resp = await client.post("/v1/files/upload", content=multipart(parts), headers=headers)
    assert (resp.status_code, resp.json()) == (400, REFUSED)
    assert stored_files(storage_root) == []


async def test_select_inputs_are_checked_as_sent_then_stripped(client: httpx.AsyncClient) -> None:
    """Dify validates inputs first and strips NUL after: a select option with a NUL added
    is not that option."""
    select = {"select": {"variable": "tone", "label": "Tone", "options": ["formal", "casual"]}}
    _, key = await make_app(chat_dsl(form=[select]))
    body = {"inputs": {"tone": "formal\x00"}, "query": "hi", "user": "sel-u"}
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 400
    assert resp.json()["message"].startswith("tone in input form must be one of the following")


async def test_nul_from_the_model_is_removed_before_it_is_stored(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.chunks = ["Hel\x00lo", " there"]
    _, key = await make_app(chat_dsl(provider="openai", model="gpt-4o-mini"))
    body = {"inputs": {}, "query": "hi", "user": "model-u"}
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    assert resp.json()["answer"] == "Hello there"
    async with session_scope() as session:
        message = await session.get(Message, resp.json()["message_id"])
    assert message is not None and message.answer == "Hello there"
