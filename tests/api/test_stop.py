"""Stopping a stream: owner only, partial answer stored, upstream closed, slot released."""

import asyncio
import json

import httpx

from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.sse import answer_of, parse_frames

OPENAI = {"provider": "openai", "model": "gpt-4o-mini"}


async def _first_event(lines: "object") -> dict[str, object]:
    async for line in lines:  # type: ignore[attr-defined]
        if line.startswith("data: "):
            event: dict[str, object] = json.loads(line[6:])
            return event
    raise AssertionError("stream ended before any event")


async def _rest(response: httpx.Response, lines: "object") -> list[dict[str, object]]:
    frames = []
    async for line in lines:  # type: ignore[attr-defined]
        if line:
            frames.append(line)
    return parse_frames("\n\n".join(frames))


async def _messages(client: httpx.AsyncClient, key: str, conversation_id: str, user: str) -> list:
    resp = await client.get(
        "/v1/messages", params={"conversation_id": conversation_id, "user": user}, headers=auth(key)
    )
    assert resp.status_code == 200, resp.text
    return list(resp.json()["data"])


async def test_owner_stops_stream_partial_answer_saved(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.n_chunks = 1000  # 20 s: stopped long before its end
    upstream.behaviour.delay = 0.02
    _, key = await make_app(chat_dsl(**OPENAI))
    body = {
        "auto_generate_name": False,
        "inputs": {},
        "query": "long",
        "response_mode": "streaming",
        "user": "owner",
    }
    async with client.stream("POST", "/v1/chat-messages", json=body, headers=auth(key)) as resp:
        lines = resp.aiter_lines()
        first = await _first_event(lines)
        stop = await client.post(
            f"/v1/chat-messages/{first['task_id']}/stop", json={"user": "owner"}, headers=auth(key)
        )
        assert stop.status_code == 200
        assert stop.json() == {"result": "success"}
        rest = await asyncio.wait_for(_rest(resp, lines), timeout=10)
    events = [first, *rest]
    assert events[-1]["event"] == "message_end"
    streamed = answer_of([e for e in events if e["event"] == "message"])
    assert 0 < len([e for e in events if e["event"] == "message"]) < 1000
    usage = events[-1]["metadata"]["usage"]  # type: ignore[index]
    assert usage["completion_tokens"] > 0
    for _ in range(50):
        if upstream.streams_closed_early >= 1:
            break
        await asyncio.sleep(0.05)
    assert upstream.streams_closed_early == 1
    stored = await _messages(client, key, str(first["conversation_id"]), "owner")
    assert stored[-1]["answer"] == streamed.strip()
    assert stored[-1]["status"] == "normal"


async def test_stop_by_another_user_is_ignored(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.n_chunks = 15
    upstream.behaviour.delay = 0.03
    _, key = await make_app(chat_dsl(**OPENAI))
    body = {
        "auto_generate_name": False,
        "inputs": {},
        "query": "q",
        "response_mode": "streaming",
        "user": "alice",
    }
    async with client.stream("POST", "/v1/chat-messages", json=body, headers=auth(key)) as resp:
        lines = resp.aiter_lines()
        first = await _first_event(lines)
        stop = await client.post(
            f"/v1/chat-messages/{first['task_id']}/stop",
            json={"user": "mallory"},
            headers=auth(key),
        )
        assert stop.json() == {"result": "success"}
        rest = await _rest(resp, lines)
    messages = [e for e in [first, *rest] if e["event"] == "message"]
    assert len(messages) == 15
    assert upstream.streams_completed == 1


async def test_stop_unknown_task_and_missing_user(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    ok = await client.post("/v1/chat-messages/nope/stop", json={"user": "u"}, headers=auth(key))
    assert ok.status_code == 200 and ok.json() == {"result": "success"}
    bad = await client.post("/v1/chat-messages/nope/stop", json={}, headers=auth(key))
    assert bad.status_code == 400
    assert bad.json() == {
        "code": "invalid_param",
        "message": "Arg user must be provided.",
        "status": 400,
    }
