"""`GET /v1/end-users/{end_user_id}`: an end user of the calling app (dify-api-behavior.md §4)."""

import re
import uuid

import httpx

from app.core.db import session_scope
from app.models import Conversation
from tests.support.dsl import auth, chat_dsl, make_app

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
FIELDS = {
    "id",
    "tenant_id",
    "app_id",
    "type",
    "external_user_id",
    "name",
    "is_anonymous",
    "session_id",
    "created_at",
    "updated_at",
}
NOT_FOUND = {"code": "end_user_not_found", "message": "End user not found.", "status": 404}


async def _end_user_id(client: httpx.AsyncClient, key: str, user: str) -> str:
    body = {"inputs": {}, "query": "hi", "user": user, "auto_generate_name": False}
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    async with session_scope() as session:
        conversation = await session.get(Conversation, resp.json()["conversation_id"])
    assert conversation is not None
    return conversation.from_end_user_id


async def test_end_user_detail(client: httpx.AsyncClient) -> None:
    app_id, key = await make_app(chat_dsl())
    end_user_id = await _end_user_id(client, key, "abc-123")
    resp = await client.get(f"/v1/end-users/{end_user_id}", headers=auth(key))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == FIELDS
    assert body["id"] == end_user_id and body["app_id"] == app_id and body["tenant_id"]
    assert (body["type"], body["external_user_id"], body["session_id"]) == (
        "service_api",
        "abc-123",
        "abc-123",
    )
    assert body["name"] is None and body["is_anonymous"] is False
    assert ISO_Z.match(body["created_at"]) and ISO_Z.match(body["updated_at"]), body
    anonymous = await _end_user_id(client, key, "DEFAULT-USER")
    resp = await client.get(f"/v1/end-users/{anonymous}", headers=auth(key))
    assert resp.json()["is_anonymous"] is True


async def test_end_user_of_another_app_or_unknown_is_not_found(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    end_user_id = await _end_user_id(client, key, "scoped-u")
    _, other_key = await make_app(chat_dsl())
    for token, ident in ((other_key, end_user_id), (key, str(uuid.uuid4()))):
        resp = await client.get(f"/v1/end-users/{ident}", headers=auth(token))
        assert resp.status_code == 404 and resp.json() == NOT_FOUND
    malformed = await client.get("/v1/end-users/not-a-uuid", headers=auth(key))
    assert malformed.status_code == 404 and malformed.json()["code"] == "not_found"
    unauthorized = await client.get(f"/v1/end-users/{end_user_id}")
    assert unauthorized.status_code == 401
