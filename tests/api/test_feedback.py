"""Message feedback (like, dislike, revoke), the app's feedback list, and the `feedback`
of each listed message (dify-api-behavior.md §9.1, §9.2)."""

import asyncio
import re
import uuid
from typing import Any

import httpx

from tests.support.dsl import auth, chat_dsl, make_app

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
FEEDBACK_FIELDS = {
    "id",
    "app_id",
    "conversation_id",
    "message_id",
    "rating",
    "content",
    "from_source",
    "from_end_user_id",
    "from_account_id",
    "created_at",
    "updated_at",
}


async def _chat(
    client: httpx.AsyncClient, key: str, query: str, user: str, conversation_id: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"inputs": {}, "query": query, "user": user, "auto_generate_name": False}
    if conversation_id:
        body["conversation_id"] = conversation_id
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def _feedback(
    client: httpx.AsyncClient, key: str, message_id: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(f"/v1/messages/{message_id}/feedbacks", json=body, headers=auth(key))


async def _ratings(
    client: httpx.AsyncClient, key: str, conversation_id: str, user: str
) -> list[Any]:
    params = {"conversation_id": conversation_id, "user": user}
    resp = await client.get("/v1/messages", params=params, headers=auth(key))
    assert resp.status_code == 200, resp.text
    return [item["feedback"] for item in resp.json()["data"]]


async def _app_feedbacks(client: httpx.AsyncClient, key: str, **params: Any) -> httpx.Response:
    return await client.get("/v1/app/feedbacks", params=params, headers=auth(key))


def _error(resp: httpx.Response, status: int, code: str, message: str | None = None) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code and body["status"] == status, body
    if message is not None:
        assert body["message"] == message, body


async def test_like_update_and_revoke(client: httpx.AsyncClient) -> None:
    app_id, key = await make_app(chat_dsl())
    first = await _chat(client, key, "one", "fb-u")
    cid = first["conversation_id"]
    second = await _chat(client, key, "two", "fb-u", cid)
    assert await _ratings(client, key, cid, "fb-u") == [None, None]

    resp = await _feedback(client, key, second["message_id"], {"rating": "like", "user": "fb-u"})
    assert resp.status_code == 200 and resp.json() == {"result": "success"}
    assert await _ratings(client, key, cid, "fb-u") == [None, {"rating": "like"}]
    [item] = (await _app_feedbacks(client, key)).json()["data"]
    assert set(item) == FEEDBACK_FIELDS
    assert item["app_id"] == app_id and item["conversation_id"] == cid
    assert item["message_id"] == second["message_id"]
    assert (item["rating"], item["content"], item["from_source"]) == ("like", None, "user")
    assert item["from_account_id"] is None and item["from_end_user_id"]
    assert ISO.match(item["created_at"]) and ISO.match(item["updated_at"]), item

    body = {"rating": "dislike", "content": "too short", "user": "fb-u"}
    assert (await _feedback(client, key, second["message_id"], body)).status_code == 200
    assert await _ratings(client, key, cid, "fb-u") == [None, {"rating": "dislike"}]
    [updated] = (await _app_feedbacks(client, key)).json()["data"]
    assert updated["id"] == item["id"]
    assert (updated["rating"], updated["content"]) == ("dislike", "too short")

    body = {"rating": "like", "user": "fb-u"}  # content is overwritten, even with nothing
    assert (await _feedback(client, key, second["message_id"], body)).status_code == 200
    [again] = (await _app_feedbacks(client, key)).json()["data"]
    assert (again["rating"], again["content"]) == ("like", None)

    revoke = await _feedback(client, key, second["message_id"], {"rating": None, "user": "fb-u"})
    assert revoke.status_code == 200, revoke.text
    assert await _ratings(client, key, cid, "fb-u") == [None, None]
    assert (await _app_feedbacks(client, key)).json() == {"data": []}
    nothing = "rating cannot be None when feedback not exists"
    _error(
        await _feedback(client, key, second["message_id"], {"user": "fb-u"}),
        400,
        "invalid_param",
        nothing,
    )


async def test_feedback_errors(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    message_id = (await _chat(client, key, "hi", "fe-u"))["message_id"]
    _error(
        await _feedback(client, key, message_id, {"rating": "like"}),
        400,
        "invalid_param",
        "Arg user must be provided.",
    )
    _error(
        await _feedback(client, key, message_id, {"rating": "love", "user": "fe-u"}),
        400,
        "invalid_param",
    )
    missing = "Message Not Exists."
    _error(
        await _feedback(client, key, message_id, {"rating": "like", "user": "intruder"}),
        404,
        "not_found",
        missing,
    )
    _error(
        await _feedback(client, key, str(uuid.uuid4()), {"rating": "like", "user": "fe-u"}),
        404,
        "not_found",
        missing,
    )
    _error(
        await _feedback(client, key, "bad-id", {"rating": "like", "user": "fe-u"}), 404, "not_found"
    )
    _, other_key = await make_app(chat_dsl())
    _error(
        await _feedback(client, other_key, message_id, {"rating": "like", "user": "fe-u"}),
        404,
        "not_found",
        missing,
    )
    assert (await _app_feedbacks(client, key)).json() == {"data": []}


async def test_feedback_on_a_completion_message(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl(mode="completion", model_mode="completion"))
    body = {"inputs": {}, "query": "write", "user": "cf-u"}
    resp = await client.post("/v1/completion-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    ok = await _feedback(
        client, key, resp.json()["message_id"], {"rating": "dislike", "user": "cf-u"}
    )
    assert ok.status_code == 200, ok.text
    [item] = (await _app_feedbacks(client, key)).json()["data"]
    assert item["rating"] == "dislike"


async def test_app_feedbacks_paging_and_limits(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    message_ids = []
    for index in range(3):
        message_ids.append((await _chat(client, key, f"q{index}", f"page-u{index}"))["message_id"])
    for index, message_id in enumerate(message_ids):
        body = {"rating": "like", "user": f"page-u{index}"}
        assert (await _feedback(client, key, message_id, body)).status_code == 200
        await asyncio.sleep(0.01)
    newest_first = list(reversed(message_ids))
    everything = (await _app_feedbacks(client, key)).json()["data"]
    assert [i["message_id"] for i in everything] == newest_first
    pages = [
        (await _app_feedbacks(client, key, page=page, limit=2)).json()["data"] for page in (1, 2, 3)
    ]
    assert [[i["message_id"] for i in p] for p in pages] == [newest_first[:2], newest_first[2:], []]
    far = await _app_feedbacks(client, key, page=2**62, limit=100)  # an offset past 64 bits
    assert far.status_code == 200 and far.json() == {"data": []}
    assert (await _app_feedbacks(client, key, limit=101)).status_code == 200
    for params in ({"limit": 0}, {"limit": 102}, {"page": 0}, {"limit": "x"}):
        _error(await _app_feedbacks(client, key, **params), 400, "invalid_param")
    _, other_key = await make_app(chat_dsl())
    assert (await _app_feedbacks(client, other_key)).json() == {"data": []}


async def test_message_feedback_is_per_end_user_and_per_message(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    mine = await _chat(client, key, "mine", "own-a")
    theirs = await _chat(client, key, "theirs", "own-b")
    assert (
        await _feedback(client, key, mine["message_id"], {"rating": "like", "user": "own-a"})
    ).status_code == 200
    assert await _ratings(client, key, mine["conversation_id"], "own-a") == [{"rating": "like"}]
    assert await _ratings(client, key, theirs["conversation_id"], "own-b") == [None]
