"""Chat generation over real HTTP: streaming framing, blocking body, persistence."""

import httpx

from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.sse import answer_of, read_stream


async def test_streaming_chat_frames_and_events(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    body = {"inputs": {}, "query": "Hello there", "response_mode": "streaming", "user": "u1"}
    async with client.stream("POST", "/v1/chat-messages", json=body, headers=auth(key)) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        raw, events = await read_stream(resp)
    assert "\r" not in raw
    assert raw.startswith("data: {")
    kinds = [e["event"] for e in events]
    assert kinds[-1] == "message_end"
    assert set(kinds[:-1]) == {"message"}
    assert answer_of(events) == "Echo (turn 1): Hello there"
    first, end = events[0], events[-1]
    for event in events:
        assert event["conversation_id"] == first["conversation_id"]
        assert event["message_id"] == first["message_id"]
        assert event["task_id"] == first["task_id"]
        assert event["created_at"] == first["created_at"]
    usage = end["metadata"]["usage"]
    assert usage["completion_tokens"] == len(events) - 1
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["total_price"] == "0" and usage["currency"] == "USD"


async def test_blocking_is_default_and_history_is_kept(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    first = await client.post(
        "/v1/chat-messages", json={"inputs": {}, "query": "One", "user": "u1"}, headers=auth(key)
    )
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["event"] == "message"
    assert body["mode"] == "chat"
    assert body["id"] == body["message_id"]
    assert body["answer"] == "Echo (turn 1): One"
    second = await client.post(
        "/v1/chat-messages",
        json={
            "inputs": {},
            "query": "Two",
            "user": "u1",
            "conversation_id": body["conversation_id"],
        },
        headers=auth(key),
    )
    assert second.json()["answer"] == "Echo (turn 2): Two"
    listing = await client.get(
        "/v1/messages",
        params={"conversation_id": body["conversation_id"], "user": "u1"},
        headers=auth(key),
    )
    assert [m["answer"] for m in listing.json()["data"]] == [
        "Echo (turn 1): One",
        "Echo (turn 2): Two",
    ]
