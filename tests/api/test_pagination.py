"""`GET /v1/conversations` and `GET /v1/messages`: order, cursors, has_more, validation,
scoping and item shapes; a conversation is listed while its first answer streams."""

import json
import uuid
from typing import Any

import httpx

from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.sse import parse_frames

NIL_UUID = "00000000-0000-0000-0000-000000000000"
SORTS = ("created_at", "-created_at", "updated_at", "-updated_at")
CONVERSATION_FIELDS = {"id", "name", "inputs", "status", "introduction", "created_at", "updated_at"}


async def _chat(
    client: httpx.AsyncClient,
    key: str,
    query: str,
    user: str,
    conversation_id: str | None = None,
    inputs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "inputs": inputs or {},
        "query": query,
        "user": user,
        "auto_generate_name": False,
    }
    if conversation_id:
        body["conversation_id"] = conversation_id
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def _conversations(client: httpx.AsyncClient, key: str, **params: Any) -> httpx.Response:
    return await client.get("/v1/conversations", params=params, headers=auth(key))


async def _page(client: httpx.AsyncClient, key: str, **params: Any) -> dict[str, Any]:
    resp = await _conversations(client, key, **params)
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def _messages(client: httpx.AsyncClient, key: str, **params: Any) -> httpx.Response:
    return await client.get("/v1/messages", params=params, headers=auth(key))


async def _three_conversations(client: httpx.AsyncClient, key: str, user: str) -> list[str]:
    """c1, c2, c3 created in order; then c1 gets a second turn (its updated_at is newest)."""
    ids = [(await _chat(client, key, f"start {i}", user))["conversation_id"] for i in (1, 2, 3)]
    await _chat(client, key, "follow-up", user, ids[0])
    return ids


def _expected_orders(c1: str, c2: str, c3: str) -> dict[str, list[str]]:
    return {
        "created_at": [c1, c2, c3],
        "-created_at": [c3, c2, c1],
        "updated_at": [c2, c3, c1],
        "-updated_at": [c1, c3, c2],
    }


def _ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["data"]]


async def test_conversation_item_fields(client: httpx.AsyncClient) -> None:
    form = [
        {"text-input": {"label": "Name", "variable": "name", "required": True}},
        {"text-input": {"label": "Topic", "variable": "topic", "required": True}},
    ]
    opening = "Welcome {{name}}! Let's talk about {{topic}}."
    _, key = await make_app(chat_dsl(form=form, opening_statement=opening))
    inputs = {"name": "Ann", "topic": "tea", "not_in_form": "dropped"}
    data = await _chat(client, key, "hi", "fields-u", inputs=inputs)
    page = await _page(client, key, user="fields-u")
    assert page["limit"] == 20 and page["has_more"] is False
    [item] = page["data"]
    assert set(item) == CONVERSATION_FIELDS
    assert item["id"] == data["conversation_id"]
    assert item["name"] == "New conversation"
    assert item["inputs"] == {"name": "Ann", "topic": "tea"}
    assert item["status"] == "normal"
    assert item["introduction"] == "Welcome Ann! Let's talk about tea."
    for name in ("created_at", "updated_at"):
        assert isinstance(item[name], int) and item[name] >= data["created_at"] - 5, name


async def test_default_sort_and_every_sort_order(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    c1, c2, c3 = await _three_conversations(client, key, "sort-u")
    expected = _expected_orders(c1, c2, c3)
    assert _ids(await _page(client, key, user="sort-u")) == expected["-updated_at"]
    for sort_by in SORTS:
        page = await _page(client, key, user="sort-u", sort_by=sort_by)
        assert _ids(page) == expected[sort_by], sort_by
        assert page["has_more"] is False


async def test_last_id_cursor_walks_every_sort(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    c1, c2, c3 = await _three_conversations(client, key, "cursor-u")
    for sort_by, order in _expected_orders(c1, c2, c3).items():
        first = await _page(client, key, user="cursor-u", sort_by=sort_by, limit=1)
        assert _ids(first) == order[:1] and first["has_more"] is True, sort_by
        walked = _ids(first)
        flags = [first["has_more"]]
        while flags[-1]:
            page = await _page(
                client, key, user="cursor-u", sort_by=sort_by, limit=1, last_id=walked[-1]
            )
            walked += _ids(page)
            flags.append(page["has_more"])
            assert len(walked) <= 3, (sort_by, walked)
        assert walked == order, sort_by
        assert flags == [True, True, False], sort_by
        rest = await _page(client, key, user="cursor-u", sort_by=sort_by, last_id=order[0])
        assert _ids(rest) == order[1:], sort_by
        beyond_last = await _page(client, key, user="cursor-u", sort_by=sort_by, last_id=order[2])
        assert beyond_last["data"] == [] and beyond_last["has_more"] is False, sort_by


async def test_has_more_at_the_exact_boundary(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    c1, c2, c3 = await _three_conversations(client, key, "edge-u")
    exact = await _page(client, key, user="edge-u", limit=3)
    assert exact["limit"] == 3
    assert _ids(exact) == [c1, c3, c2] and exact["has_more"] is False
    short = await _page(client, key, user="edge-u", limit=2)
    assert _ids(short) == [c1, c3] and short["has_more"] is True
    tail = await _page(client, key, user="edge-u", limit=2, last_id=c3)
    assert _ids(tail) == [c2] and tail["has_more"] is False
    exact_tail = await _page(client, key, user="edge-u", limit=1, last_id=c3)
    assert _ids(exact_tail) == [c2] and exact_tail["has_more"] is False


async def test_conversation_list_parameter_errors(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    await _chat(client, key, "hi", "bad-u")
    for limit in ("0", "101", "abc", "-1"):
        resp = await _conversations(client, key, user="bad-u", limit=limit)
        assert resp.status_code == 400, (limit, resp.text)
        assert resp.json()["code"] == "invalid_param", limit
        assert resp.json()["status"] == 400
    for sort_by in ("name", "updated", "+created_at"):
        resp = await _conversations(client, key, user="bad-u", sort_by=sort_by)
        assert resp.status_code == 400, (sort_by, resp.text)
        assert resp.json()["code"] == "invalid_param", sort_by
    edges = [await _conversations(client, key, user="bad-u", limit=n) for n in (1, 100)]
    assert [r.status_code for r in edges] == [200, 200]
    missing = await _conversations(client, key, user="bad-u", last_id=str(uuid.uuid4()))
    assert missing.status_code == 404
    assert missing.json() == {
        "code": "not_found",
        "message": "Last Conversation Not Exists.",
        "status": 404,
    }


async def test_no_user_lists_the_default_users_conversations(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    mine = (await _chat(client, key, "mine", "alice-default"))["conversation_id"]
    empty = await _page(client, key)
    assert empty["data"] == [] and empty["has_more"] is False
    shared = await _chat(client, key, "anonymous", "DEFAULT-USER")
    assert _ids(await _page(client, key)) == [shared["conversation_id"]]
    assert _ids(await _page(client, key, user="")) == [shared["conversation_id"]]
    assert _ids(await _page(client, key, user="alice-default")) == [mine]


async def test_other_users_and_apps_are_invisible(client: httpx.AsyncClient) -> None:
    _, key1 = await make_app(chat_dsl())
    _, key2 = await make_app(chat_dsl())
    alice = (await _chat(client, key1, "a", "scope-alice"))["conversation_id"]
    bob = (await _chat(client, key1, "b", "scope-bob"))["conversation_id"]
    alice2 = (await _chat(client, key2, "a2", "scope-alice"))["conversation_id"]
    assert _ids(await _page(client, key1, user="scope-alice")) == [alice]
    assert _ids(await _page(client, key1, user="scope-bob")) == [bob]
    assert _ids(await _page(client, key2, user="scope-alice")) == [alice2]
    assert _ids(await _page(client, key2, user="scope-bob")) == []
    foreign = await _conversations(client, key1, user="scope-bob", last_id=alice)
    assert foreign.status_code == 404
    assert foreign.json()["message"] == "Last Conversation Not Exists."
    for app_key, user, conversation in ((key1, "scope-bob", alice), (key2, "scope-alice", alice)):
        resp = await _messages(client, app_key, user=user, conversation_id=conversation)
        assert resp.status_code == 404, resp.text
        assert resp.json() == {
            "code": "not_found",
            "message": "Conversation Not Exists.",
            "status": 404,
        }


async def _five_turns(client: httpx.AsyncClient, key: str, user: str) -> tuple[str, list[str]]:
    first = await _chat(client, key, "q1", user)
    conversation = first["conversation_id"]
    ids = [first["message_id"]]
    for n in range(2, 6):
        ids.append((await _chat(client, key, f"q{n}", user, conversation))["message_id"])
    return conversation, ids


async def test_messages_newest_page_ascending_and_first_id_paging(
    client: httpx.AsyncClient,
) -> None:
    _, key = await make_app(chat_dsl())
    conversation, ids = await _five_turns(client, key, "msg-u")
    base = {"user": "msg-u", "conversation_id": conversation}
    newest = (await _messages(client, key, limit=2, **base)).json()
    assert newest["limit"] == 2
    assert [m["id"] for m in newest["data"]] == ids[3:5]
    assert [m["query"] for m in newest["data"]] == ["q4", "q5"]
    assert newest["has_more"] is True
    older = (await _messages(client, key, limit=2, first_id=ids[3], **base)).json()
    assert [m["id"] for m in older["data"]] == ids[1:3] and older["has_more"] is True
    oldest = (await _messages(client, key, limit=2, first_id=ids[1], **base)).json()
    assert [m["id"] for m in oldest["data"]] == ids[:1] and oldest["has_more"] is False
    everything = (await _messages(client, key, **base)).json()
    assert everything["limit"] == 20
    assert [m["id"] for m in everything["data"]] == ids and everything["has_more"] is False


async def test_messages_has_more_uses_a_limit_plus_one_probe(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    conversation, ids = await _five_turns(client, key, "probe-u")
    base = {"user": "probe-u", "conversation_id": conversation}
    exact = (await _messages(client, key, limit=5, **base)).json()
    assert [m["id"] for m in exact["data"]] == ids and exact["has_more"] is False
    one_short = (await _messages(client, key, limit=4, **base)).json()
    assert [m["id"] for m in one_short["data"]] == ids[1:] and one_short["has_more"] is True
    exact_older = (await _messages(client, key, limit=2, first_id=ids[2], **base)).json()
    assert [m["id"] for m in exact_older["data"]] == ids[:2]
    assert exact_older["has_more"] is False


async def test_messages_lookup_errors(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    conversation, _ = await _five_turns(client, key, "err-u")
    other = await _chat(client, key, "elsewhere", "err-u")
    base = {"user": "err-u", "conversation_id": conversation}
    for first_id in (str(uuid.uuid4()), other["message_id"]):
        resp = await _messages(client, key, first_id=first_id, **base)
        assert resp.status_code == 404, resp.text
        assert resp.json() == {
            "code": "not_found",
            "message": "First Message Not Exists.",
            "status": 404,
        }
    unknown = await _messages(client, key, user="err-u", conversation_id=str(uuid.uuid4()))
    assert unknown.status_code == 404
    assert unknown.json()["message"] == "Conversation Not Exists."
    for limit in ("0", "101", "abc"):
        resp = await _messages(client, key, limit=limit, **base)
        assert resp.status_code == 400, (limit, resp.text)
        assert resp.json()["code"] == "invalid_param"


async def test_message_item_fields(client: httpx.AsyncClient) -> None:
    form = [{"text-input": {"label": "City", "variable": "city", "required": True}}]
    _, key = await make_app(chat_dsl(form=form))
    data = await _chat(client, key, "Weather?", "item-u", inputs={"city": "Oslo"})
    resp = await _messages(client, key, user="item-u", conversation_id=data["conversation_id"])
    assert resp.status_code == 200, resp.text
    [item] = resp.json()["data"]
    assert item["id"] == data["message_id"]
    assert item["conversation_id"] == data["conversation_id"]
    assert item["parent_message_id"] == NIL_UUID
    assert item["inputs"] == {"city": "Oslo"}
    assert item["query"] == "Weather?"
    assert item["answer"] == data["answer"].strip() == "Echo (turn 1): Weather?"
    assert item["status"] == "normal"
    assert item["error"] is None
    assert item["message_files"] == []
    assert item["feedback"] is None
    assert item["retriever_resources"] == []
    assert item["agent_thoughts"] == []
    assert item["created_at"] == data["created_at"]


async def test_conversation_listed_while_first_answer_streams(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.n_chunks = 100  # 5 s, so the page is read while it still runs
    upstream.behaviour.delay = 0.05
    _, key = await make_app(chat_dsl(provider="openai", model="gpt-4o-mini"))
    body = {
        "auto_generate_name": False,
        "inputs": {},
        "query": "slow",
        "response_mode": "streaming",
        "user": "live-u",
    }
    async with client.stream("POST", "/v1/chat-messages", json=body, headers=auth(key)) as resp:
        lines = resp.aiter_lines()
        first: dict[str, Any] | None = None
        async for line in lines:
            if line.startswith("data: "):
                first = json.loads(line[6:])
                break
        assert first is not None and first["event"] == "message"
        page = await _page(client, key, user="live-u")
        assert upstream.active_streams >= 1  # the answer is still being generated
        rest = parse_frames("\n\n".join([line async for line in lines if line]))
    [item] = page["data"]
    assert item["id"] == first["conversation_id"]
    assert item["name"] == "New conversation"
    assert item["status"] == "normal"
    kinds = [e["event"] for e in rest if e["event"] != "ping"]
    assert kinds[-1] == "message_end"
    assert kinds.count("message") >= 30
