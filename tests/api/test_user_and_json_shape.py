"""A `user` PostgreSQL cannot store, and JSON nested deep enough to break whatever walks it.

`end_users.session_id` is a 255-character column: on PostgreSQL a longer `user` used to
fail the insert (a 500), while SQLite stored it. Dify has no length rule of its own (its
`external_user_id` is a 255-character column too), so Kiln answers a 400 `invalid_param`
wherever a request names an end user, on every database alike, before anything is written.

JSON a request keeps (`user`, `inputs`, `files`, a conversation variable's `value`) is
stringified, serialised and stored; nested about 1,000 levels deep it used to raise
`RecursionError` (a 500). It is refused past 100 levels; ignored fields are not looked at.
"""

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import func, select

from app.core.config import get_settings
from app.core.db import session_scope
from app.models import Conversation, EndUser, Message, UploadFile
from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.files import stored_files, upload, use_tmp_storage

USER_TOO_LONG = {
    "code": "invalid_param",
    "message": "Invalid parameter: user must be at most 255 characters.",
    "status": 400,
}
TOO_DEEP = {
    "code": "invalid_param",
    "message": "Invalid parameter: JSON nested deeper than 100 levels.",
    "status": 400,
}
LONG_USER = "u" * 256
JSON_FORM = [{"json_object": {"variable": "profile", "label": "Profile", "required": False}}]
STT_ON = {"speech_to_text": {"enabled": True}}
WAV_BYTES = b"RIFF" + bytes(range(256)) * 8


@pytest.fixture(autouse=True)
def storage_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return use_tmp_storage(monkeypatch, tmp_path)


async def _count(app_id: str, model: Any) -> int:
    async with session_scope() as session:
        statement = select(func.count()).select_from(model).where(model.app_id == app_id)
        return int((await session.exec(statement)).one())


async def _written(app_id: str) -> tuple[int, int, int, int]:
    return (
        await _count(app_id, EndUser),
        await _count(app_id, Conversation),
        await _count(app_id, Message),
        await _count(app_id, UploadFile),
    )


def _deep(levels: int, leaf: str = '"x"') -> str:
    """A JSON text nested `levels` objects deep."""
    return '{"a":' * levels + leaf + "}" * levels


def _refused(resp: httpx.Response, expected: dict[str, Any]) -> None:
    assert (resp.status_code, resp.json()) == (400, expected), resp.text


async def test_a_user_longer_than_255_characters_is_refused_on_every_endpoint(
    client: httpx.AsyncClient, storage_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "speech_to_text_model", "kiln/echo-stt")
    monkeypatch.setattr(get_settings(), "text_to_speech_model", "kiln/silent-tts")
    chat_id, chat_key = await make_app(chat_dsl(**STT_ON))
    completion_id, completion_key = await make_app(chat_dsl(mode="completion"))
    headers = auth(chat_key)
    chat = {"inputs": {}, "query": "hi", "user": LONG_USER, "response_mode": "blocking"}

    _refused(await client.post("/v1/chat-messages", json=chat, headers=headers), USER_TOO_LONG)
    streaming = chat | {"response_mode": "streaming"}
    _refused(await client.post("/v1/chat-messages", json=streaming, headers=headers), USER_TOO_LONG)
    resp = await client.post("/v1/completion-messages", json=chat, headers=auth(completion_key))
    _refused(resp, USER_TOO_LONG)
    speech = {"text": "hello", "user": LONG_USER}
    _refused(await client.post("/v1/text-to-audio", json=speech, headers=headers), USER_TOO_LONG)
    _refused(await upload(client, chat_key, user=LONG_USER), USER_TOO_LONG)
    files = {"file": ("clip.wav", WAV_BYTES, "audio/wav")}
    resp = await client.post(
        "/v1/audio-to-text", data={"user": LONG_USER}, files=files, headers=headers
    )
    _refused(resp, USER_TOO_LONG)
    stop = "/v1/chat-messages/some-task/stop"
    _refused(await client.post(stop, json={"user": LONG_USER}, headers=headers), USER_TOO_LONG)
    some_id = "00000000-0000-4000-8000-000000000000"
    feedback = {"rating": "like", "user": LONG_USER}
    resp = await client.post(f"/v1/messages/{some_id}/feedbacks", json=feedback, headers=headers)
    _refused(resp, USER_TOO_LONG)
    for path, params in (
        ("/v1/conversations", {}),
        ("/v1/messages", {"conversation_id": some_id}),
        (f"/v1/conversations/{some_id}/variables", {}),
        (f"/v1/messages/{some_id}/suggested", {}),
    ):
        resp = await client.get(path, params=params | {"user": LONG_USER}, headers=headers)
        _refused(resp, USER_TOO_LONG)

    assert await _written(chat_id) == (0, 0, 0, 0)
    assert await _written(completion_id) == (0, 0, 0, 0)
    assert stored_files(storage_root) == []


async def test_a_user_of_255_characters_works(client: httpx.AsyncClient) -> None:
    app_id, key = await make_app(chat_dsl())
    user = "\u00e9" * 255  # characters, not bytes, as PostgreSQL's varchar counts them
    body = {"inputs": {}, "query": "hi", "user": user, "auto_generate_name": False}
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    listed = await client.get("/v1/conversations", params={"user": user}, headers=auth(key))
    assert [c["id"] for c in listed.json()["data"]] == [resp.json()["conversation_id"]]
    assert await _written(app_id) == (1, 1, 1, 0)


async def test_a_user_that_is_a_json_value_counts_as_its_text(client: httpx.AsyncClient) -> None:
    """Dify turns any `user` into `str(user)`: a long one is refused like a long string."""
    app_id, key = await make_app(chat_dsl())
    headers = auth(key) | {"Content-Type": "application/json"}
    stop = "/v1/chat-messages/some-task/stop"
    wide = '{"user": {"k": "' + "v" * 300 + '"}}'
    _refused(await client.post(stop, content=wide, headers=headers), USER_TOO_LONG)
    resp = await client.post(stop, content='{"user": {"k": [1, 2]}}', headers=headers)
    assert resp.json() == {"result": "success"}


@pytest.mark.parametrize(
    "path", ["/v1/chat-messages", "/v1/completion-messages", "/v1/chat-messages/t/stop"]
)
async def test_a_deeply_nested_user_is_a_400(client: httpx.AsyncClient, path: str) -> None:
    mode = "completion" if "completion" in path else "chat"
    app_id, key = await make_app(chat_dsl(mode=mode))
    body = '{"inputs": {}, "query": "hi", "user": ' + _deep(1000) + "}"
    headers = auth(key) | {"Content-Type": "application/json"}
    _refused(await client.post(path, content=body, headers=headers), TOO_DEEP)
    assert await _written(app_id) == (0, 0, 0, 0)


async def test_deeply_nested_inputs_files_and_variable_values_are_400s(
    client: httpx.AsyncClient,
) -> None:
    app_id, key = await make_app(chat_dsl(form=JSON_FORM))
    headers = auth(key) | {"Content-Type": "application/json"}
    deep = _deep(1000)
    bodies = [
        '{"inputs": {"profile": ' + deep + '}, "query": "hi", "user": "deep-u"}',
        '{"inputs": {"other": ' + deep + '}, "query": "hi", "user": "deep-u"}',
        '{"inputs": {}, "query": "hi", "user": "deep-u", "files": [{"transfer_method": '
        '"remote_url", "type": "image", "url": ' + deep + "}]}",
    ]
    for body in bodies:
        resp = await client.post("/v1/chat-messages", content=body, headers=headers)
        _refused(resp, TOO_DEEP)
    assert await _written(app_id) == (0, 0, 0, 0)

    created = await client.post(
        "/v1/chat-messages",
        json={"inputs": {}, "query": "hi", "user": "deep-u", "auto_generate_name": False},
        headers=auth(key),
    )
    conversation_id = created.json()["conversation_id"]
    path = f"/v1/conversations/{conversation_id}/variables/00000000-0000-4000-8000-000000000000"
    variable = '{"user": "deep-u", "value": ' + deep + "}"
    resp = await client.put(path, content=variable, headers=headers)
    _refused(resp, TOO_DEEP)
    rename = f"/v1/conversations/{conversation_id}/name"
    resp = await client.post(rename, content='{"user": ' + deep + "}", headers=headers)
    _refused(resp, TOO_DEEP)


async def test_json_nested_100_levels_is_kept_stored_and_listed(client: httpx.AsyncClient) -> None:
    """The limit leaves room for any real object: a body nested 100 levels deep (the body,
    `inputs`, then 98 levels of `profile`) goes through end to end; one more is refused."""
    _, key = await make_app(chat_dsl(form=JSON_FORM))
    headers = auth(key) | {"Content-Type": "application/json"}

    def body(levels: int) -> str:
        return '{"inputs": {"profile": ' + _deep(levels) + '}, "query": "hi", "user": "deep-ok"}'

    resp = await client.post("/v1/chat-messages", content=body(99), headers=headers)
    _refused(resp, TOO_DEEP)
    resp = await client.post("/v1/chat-messages", content=body(98), headers=headers)
    assert resp.status_code == 200, resp.text
    params = {"user": "deep-ok", "conversation_id": resp.json()["conversation_id"]}
    listed = await client.get("/v1/messages", params=params, headers=auth(key))
    assert listed.status_code == 200, listed.text
    profile = listed.json()["data"][0]["inputs"]["profile"]
    for _ in range(98):
        profile = profile["a"]
    assert profile == "x"


async def test_ignored_fields_may_be_nested_deeply(client: httpx.AsyncClient) -> None:
    """As Dify, fields a request does not keep are never looked at."""
    _, key = await make_app(chat_dsl())
    headers = auth(key) | {"Content-Type": "application/json"}
    body = '{"inputs": {}, "query": "hi", "user": "u", "extra": ' + _deep(1000) + "}"
    resp = await client.post("/v1/chat-messages", content=body, headers=headers)
    assert resp.status_code == 200, resp.text
