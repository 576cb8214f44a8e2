"""Rename (manual and generated), automatic naming of new conversations, delete, and
`GET /v1/conversations` paging when timestamps tie (dify-api-behavior.md §6.3, §8)."""

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from app.core.db import session_scope
from app.models import Conversation
from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream

STOCK_404 = (
    "The requested URL was not found on the server. If you entered the URL manually please "
    "check your spelling and try again."
)
LONG_QUERY = "Please tell me everything about the history of the Roman aqueducts today"


async def _chat(
    client: httpx.AsyncClient,
    key: str,
    query: str,
    user: str,
    conversation_id: str | None = None,
    auto_name: bool = False,
) -> dict[str, Any]:
    body: dict[str, Any] = {"inputs": {}, "query": query, "user": user}
    body["auto_generate_name"] = auto_name
    if conversation_id:
        body["conversation_id"] = conversation_id
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def _listing(client: httpx.AsyncClient, key: str, user: str, **params: Any) -> Any:
    resp = await client.get("/v1/conversations", params={"user": user, **params}, headers=auth(key))
    assert resp.status_code == 200, resp.text
    return resp.json()


async def _name_of(client: httpx.AsyncClient, key: str, user: str, conversation_id: str) -> str:
    items = (await _listing(client, key, user, limit=100))["data"]
    [item] = [i for i in items if i["id"] == conversation_id]
    return str(item["name"])


async def _wait_for_name(
    client: httpx.AsyncClient, key: str, user: str, conversation_id: str
) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        name = await _name_of(client, key, user, conversation_id)
        if name != "New conversation":
            return name
        await asyncio.sleep(0.05)
    raise AssertionError("the conversation was never named")


async def _rename(
    client: httpx.AsyncClient, key: str, conversation_id: str, body: dict[str, Any]
) -> httpx.Response:
    path = f"/v1/conversations/{conversation_id}/name"
    return await client.post(path, json=body, headers=auth(key))


def _error(resp: httpx.Response, status: int, code: str, message: str | None = None) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code and body["status"] == status, body
    if message is not None:
        assert body["message"] == message, body


# --- rename ---------------------------------------------------------------------------------


async def test_manual_rename_returns_item_and_bumps_updated_at(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    c1 = (await _chat(client, key, "first", "ren-u"))["conversation_id"]
    c2 = (await _chat(client, key, "second", "ren-u"))["conversation_id"]
    before = await _listing(client, key, "ren-u")
    assert [i["id"] for i in before["data"]] == [c2, c1]
    await asyncio.sleep(1.1)  # updated_at is in whole seconds on the wire
    resp = await _rename(client, key, c1, {"name": "Trip plans", "user": "ren-u"})
    assert resp.status_code == 200, resp.text
    item = resp.json()
    assert set(item) == {
        "id",
        "name",
        "inputs",
        "status",
        "introduction",
        "created_at",
        "updated_at",
    }
    assert item["id"] == c1 and item["name"] == "Trip plans" and item["status"] == "normal"
    old = next(i for i in before["data"] if i["id"] == c1)
    assert item["updated_at"] > old["updated_at"] and item["created_at"] == old["created_at"]
    after = await _listing(client, key, "ren-u")
    assert [i["id"] for i in after["data"]] == [c1, c2]  # -updated_at: the rename moved it up
    assert after["data"][0]["name"] == "Trip plans"


async def test_rename_errors(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    cid = (await _chat(client, key, "hello", "rerr-u"))["conversation_id"]
    required = "name is required when auto_generate is false"
    for body in ({"user": "rerr-u"}, {"name": "  ", "user": "rerr-u"}, {"name": None}):
        _error(await _rename(client, key, cid, body), 400, "invalid_param", required)
    _error(
        await _rename(client, key, cid, {"name": "x" * 256, "user": "rerr-u"}), 400, "invalid_param"
    )
    _error(
        await _rename(client, key, cid, {"name": "x", "auto_generate": "maybe"}),
        400,
        "invalid_param",
    )
    missing = "Conversation Not Exists."
    _error(
        await _rename(client, key, cid, {"name": "x", "user": "someone-else"}),
        404,
        "not_found",
        missing,
    )
    _error(await _rename(client, key, cid, {"name": "x"}), 404, "not_found", missing)
    _error(
        await _rename(client, key, str(uuid.uuid4()), {"name": "x", "user": "rerr-u"}),
        404,
        "not_found",
        missing,
    )
    _error(
        await _rename(client, key, "not-a-uuid", {"name": "x", "user": "rerr-u"}),
        404,
        "not_found",
        STOCK_404,
    )
    raw = await client.post(
        f"/v1/conversations/{cid}/name",
        content=b"name=x",
        headers={**auth(key), "Content-Type": "text/plain"},
    )
    _error(raw, 415, "unsupported_media_type")
    assert await _name_of(client, key, "rerr-u", cid) == "New conversation"


async def test_conversation_endpoints_refuse_completion_apps(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl(mode="completion", model_mode="completion"))
    cid = str(uuid.uuid4())
    message = "Please check if your app mode matches the right API route."
    _error(
        await _rename(client, key, cid, {"name": "x", "user": "u"}), 400, "not_chat_app", message
    )
    resp = await client.delete(f"/v1/conversations/{cid}", headers=auth(key))
    _error(resp, 400, "not_chat_app", message)


async def test_auto_generate_with_echo_falls_back_to_the_truncated_query(
    client: httpx.AsyncClient,
) -> None:
    _, key = await make_app(chat_dsl())
    cid = (await _chat(client, key, LONG_QUERY, "gen-u"))["conversation_id"]
    await _chat(client, key, "a later question", "gen-u", cid)
    resp = await _rename(client, key, cid, {"auto_generate": True, "user": "gen-u"})
    assert resp.status_code == 200, resp.text
    # The echo model repeats the prompt, which holds no JSON object: Dify's fallback.
    assert resp.json()["name"] == LONG_QUERY[:47] + "..."
    assert await _name_of(client, key, "gen-u", cid) == LONG_QUERY[:47] + "..."
    short = (await _chat(client, key, "Short one", "gen-u"))["conversation_id"]
    resp = await _rename(
        client, key, short, {"auto_generate": True, "name": "ignored", "user": "gen-u"}
    )
    assert resp.json()["name"] == "Short one"


async def test_auto_generate_parses_a_json_title_from_the_reply(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    query = 'Call it {"title": "  Roman Aqueducts  "} please'
    cid = (await _chat(client, key, query, "json-u"))["conversation_id"]
    resp = await _rename(client, key, cid, {"auto_generate": True, "user": "json-u"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["name"] == "Roman Aqueducts"


async def test_auto_generate_with_the_app_model_upstream(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(chat_dsl(provider="openai", model="gpt-4o-mini"))
    cid = (await _chat(client, key, "What is the weather\nin Paris?", "up-u"))["conversation_id"]
    upstream.behaviour.chunks = ["Sure! ```json\n", '{"title": "Paris weather"}', "\n```"]
    resp = await _rename(client, key, cid, {"auto_generate": True, "user": "up-u"})
    assert resp.json()["name"] == "Paris weather"
    sent = upstream.requests[-1]
    assert sent["model"] == "gpt-4o-mini"
    [prompt] = sent["messages"]
    assert prompt["role"] == "user" and "What is the weather in Paris?" in prompt["content"]
    assert '"title"' in prompt["content"]

    long_title = "A" * 80
    upstream.behaviour.chunks = ['{"title": "' + long_title + '"}']
    resp = await _rename(client, key, cid, {"auto_generate": True, "user": "up-u"})
    assert resp.json()["name"] == "A" * 75 + "..."

    upstream.behaviour.chunks = ["no json here at all"]
    resp = await _rename(client, key, cid, {"auto_generate": True, "user": "up-u"})
    assert resp.json()["name"] == "What is the weather\nin Paris?"

    upstream.behaviour.status = 500
    resp = await _rename(client, key, cid, {"auto_generate": True, "user": "up-u"})
    assert resp.status_code == 200 and resp.json()["name"] == "What is the weather\nin Paris?"


# --- automatic naming -----------------------------------------------------------------------


async def test_new_conversation_is_named_in_the_background(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.chunks = ["no json, so the title comes from the query"]
    _, key = await make_app(chat_dsl(provider="openai", model="gpt-4o-mini"))
    body = {"inputs": {}, "query": LONG_QUERY, "user": "auto-u", "response_mode": "streaming"}
    async with client.stream("POST", "/v1/chat-messages", json=body, headers=auth(key)) as resp:
        raw = (await resp.aread()).decode()
    upstream.behaviour.hold_completions = True  # the title call waits until released
    assert resp.status_code == 200 and '"event":"message_end"' in raw
    cid = (await _listing(client, key, "auto-u"))["data"][0]["id"]
    before = (await _listing(client, key, "auto-u"))["data"][0]
    assert before["name"] == "New conversation"  # the stream never waits for the title
    upstream.behaviour.hold_completions = False
    assert await _wait_for_name(client, key, "auto-u", cid) == LONG_QUERY[:47] + "..."
    after = (await _listing(client, key, "auto-u"))["data"][0]
    assert after["updated_at"] == before["updated_at"]  # naming is not activity


async def test_auto_name_uses_the_app_model_and_respects_the_flag(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.chunks = ['{"title": "Greeting"}']
    _, key = await make_app(chat_dsl(provider="openai", model="gpt-4o-mini"))
    named = (await _chat(client, key, "Hello there", "flag-u", auto_name=True))["conversation_id"]
    assert await _wait_for_name(client, key, "flag-u", named) == "Greeting"
    assert len(upstream.requests) == 2  # the answer, then the title
    unnamed = (await _chat(client, key, "Hello again", "flag-u"))["conversation_id"]
    await _chat(client, key, "follow-up", "flag-u", unnamed, auto_name=True)
    await asyncio.sleep(1.5)
    assert await _name_of(client, key, "flag-u", unnamed) == "New conversation"
    assert len(upstream.requests) == 4  # two answers, no title for an existing conversation


async def test_failed_first_answer_names_from_the_query_without_calling_the_model(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.status = 500
    _, key = await make_app(chat_dsl(provider="openai", model="gpt-4o-mini"))
    body = {"inputs": {}, "query": "Broken question", "user": "fail-u"}
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 400, resp.text
    cid = (await _listing(client, key, "fail-u"))["data"][0]["id"]
    assert await _wait_for_name(client, key, "fail-u", cid) == "Broken question"
    assert len(upstream.requests) == 1


# --- delete ---------------------------------------------------------------------------------


async def test_delete_removes_the_conversation_and_its_messages(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    cid = (await _chat(client, key, "to be deleted", "del-u"))["conversation_id"]
    keep = (await _chat(client, key, "kept", "del-u"))["conversation_id"]
    message_id = (await _chat(client, key, "second turn", "del-u", cid))["message_id"]
    feedback = await client.post(
        f"/v1/messages/{message_id}/feedbacks",
        json={"rating": "like", "user": "del-u"},
        headers=auth(key),
    )
    assert feedback.status_code == 200, feedback.text
    other = await client.request(
        "DELETE", f"/v1/conversations/{cid}", json={"user": "not-owner"}, headers=auth(key)
    )
    _error(other, 404, "not_found", "Conversation Not Exists.")
    resp = await client.request(
        "DELETE", f"/v1/conversations/{cid}", json={"user": "del-u"}, headers=auth(key)
    )
    assert resp.status_code == 204 and resp.content == b""
    assert [i["id"] for i in (await _listing(client, key, "del-u"))["data"]] == [keep]
    params = {"conversation_id": cid, "user": "del-u"}
    listed = await client.get("/v1/messages", params=params, headers=auth(key))
    _error(listed, 404, "not_found", "Conversation Not Exists.")
    again = await client.request(
        "DELETE", f"/v1/conversations/{cid}", json={"user": "del-u"}, headers=auth(key)
    )
    _error(again, 404, "not_found", "Conversation Not Exists.")
    gone = await client.post(
        f"/v1/messages/{message_id}/feedbacks",
        json={"rating": "like", "user": "del-u"},
        headers=auth(key),
    )
    _error(gone, 404, "not_found", "Message Not Exists.")
    feedbacks = await client.get("/v1/app/feedbacks", headers=auth(key))
    assert feedbacks.json() == {"data": []}
    renamed = await _rename(client, key, cid, {"name": "x", "user": "del-u"})
    _error(renamed, 404, "not_found", "Conversation Not Exists.")


async def test_delete_without_a_body_uses_the_default_user(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    body = {"inputs": {}, "query": "anonymous", "user": "DEFAULT-USER", "auto_generate_name": False}
    cid = (await client.post("/v1/chat-messages", json=body, headers=auth(key))).json()[
        "conversation_id"
    ]
    resp = await client.delete(f"/v1/conversations/{cid}", headers=auth(key))
    assert resp.status_code == 204 and resp.content == b""
    _error(await client.delete(f"/v1/conversations/{cid}", headers=auth(key)), 404, "not_found")
    _error(
        await client.delete("/v1/conversations/nope", headers=auth(key)),
        404,
        "not_found",
        STOCK_404,
    )


# --- paging with tied timestamps ------------------------------------------------------------


async def test_paging_never_skips_or_repeats_rows_with_equal_timestamps(
    client: httpx.AsyncClient,
) -> None:
    _, key = await make_app(chat_dsl())
    seed = await _chat(client, key, "seed", "tie-u")
    async with session_scope() as session:
        first = await session.get(Conversation, seed["conversation_id"])
        assert first is not None
        moment = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
        for _ in range(5):
            session.add(
                Conversation(
                    app_id=first.app_id,
                    from_end_user_id=first.from_end_user_id,
                    mode="chat",
                    created_at=moment,
                    updated_at=moment,
                )
            )
    for sort_by in ("created_at", "-created_at", "updated_at", "-updated_at"):
        seen: list[str] = []
        params: dict[str, Any] = {"sort_by": sort_by, "limit": 2}
        while True:
            page = await _listing(client, key, "tie-u", **params)
            seen += [i["id"] for i in page["data"]]
            if not page["has_more"]:
                break
            params["last_id"] = seen[-1]
            assert len(seen) <= 6, (sort_by, seen)
        assert len(seen) == 6 and len(set(seen)) == 6, (sort_by, seen)
        full = [i["id"] for i in (await _listing(client, key, "tie-u", sort_by=sort_by))["data"]]
        assert seen == full, sort_by
        assert (full[0] if sort_by.startswith("-") else full[-1]) == seed["conversation_id"]
