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
    for body in (
        {"question": "a\x00b", "answer": "x"},
        {"question": "q", "answer": "x", "note\x00": 1},  # keys too
        {"question": "q", "answer": ["x", {"y": "\x00"}]},  # however deep
    ):
        resp = await client.post("/v1/apps/annotations", json=body, headers=auth(key))
        assert (resp.status_code, resp.json()) == (400, REFUSED)
    assert await _annotations(client, key) == 0
    chat = {"inputs": {}, "query": "hi", "user": "nul\x00user", "response_mode": "blocking"}
    resp = await client.post("/v1/chat-messages", json=chat, headers=auth(key))
    assert (resp.status_code, resp.json()) == (400, REFUSED)
    resp = await client.get("/v1/conversations", params={"user": "nul\x00user"}, headers=auth(key))
    assert (resp.status_code, resp.json()) == (400, REFUSED)


async def test_query_strings_are_refused(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    for path, params in (
        ("/v1/apps/annotations", {"keyword": "a\x00"}),
        ("/v1/conversations", {"user": "u", "last_id": "\x00"}),
        ("/v1/messages", {"user": "u", "conversation_id": "\x00"}),
        ("/v1/app/feedbacks", {"page": "1\x00"}),
    ):
        resp = await client.get(path, params=params, headers=auth(key))
        assert (resp.status_code, resp.json()) == (400, REFUSED), path


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
