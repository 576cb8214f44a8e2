"""A client that leaves loses nothing; the per-app active-request limit frees its slot on
every ending (finish, stop, disconnect, upstream failure)."""

import asyncio
import json
import time
from collections.abc import AsyncIterator

import httpx
import yaml

from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream

OPENAI = {"provider": "openai", "model": "gpt-4o-mini"}


def _limited_dsl(limit: int) -> str:
    document = yaml.safe_load(chat_dsl(**OPENAI))
    document["app"]["max_active_requests"] = limit
    return yaml.safe_dump(document)


async def _wait_for_answer(
    client: httpx.AsyncClient, key: str, conversation_id: str, user: str, expected: str
) -> dict[str, object]:
    for _ in range(200):
        resp = await client.get(
            "/v1/messages",
            params={"conversation_id": conversation_id, "user": user},
            headers=auth(key),
        )
        data = resp.json()["data"]
        if data and data[-1]["answer"] == expected:
            message: dict[str, object] = data[-1]
            return message
        await asyncio.sleep(0.05)
    raise AssertionError(f"answer never stored: {data}")


async def _open_stream(
    client: httpx.AsyncClient, key: str, user: str
) -> tuple[httpx.Response, AsyncIterator[str], dict[str, object]]:
    body = {
        "auto_generate_name": False,
        "inputs": {},
        "query": "q",
        "response_mode": "streaming",
        "user": user,
    }
    request = client.build_request("POST", "/v1/chat-messages", json=body, headers=auth(key))
    response = await client.send(request, stream=True)
    assert response.status_code == 200
    lines = response.aiter_lines()
    async for line in lines:
        if line.startswith("data: "):
            return response, lines, json.loads(line[6:])
    raise AssertionError("no event")


async def test_disconnect_mid_stream_still_stores_full_answer(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.chunks = [f"w{i} " for i in range(25)]
    upstream.behaviour.delay = 0.02
    _, key = await make_app(chat_dsl(**OPENAI))
    response, _, first = await _open_stream(client, key, "leaver")
    await response.aclose()  # the client goes away after one event
    expected = "".join(upstream.behaviour.chunks).strip()
    stored = await _wait_for_answer(client, key, str(first["conversation_id"]), "leaver", expected)
    assert stored["status"] == "normal"
    assert stored["answer_tokens"] == 25
    assert upstream.streams_completed == 1
    assert upstream.streams_closed_early == 0


async def test_disconnect_before_first_token(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.first_delay = 0.5
    upstream.behaviour.chunks = ["late ", "answer"]
    _, key = await make_app(chat_dsl(**OPENAI))
    body = {
        "auto_generate_name": False,
        "inputs": {},
        "query": "q",
        "response_mode": "streaming",
        "user": "early-leaver",
    }
    request = client.build_request("POST", "/v1/chat-messages", json=body, headers=auth(key))
    response = await client.send(request, stream=True)
    await response.aclose()
    listing = await client.get(
        "/v1/conversations", params={"user": "early-leaver"}, headers=auth(key)
    )
    conversation_id = listing.json()["data"][0]["id"]
    await _wait_for_answer(client, key, conversation_id, "early-leaver", "late answer")


async def test_active_request_limit_released_on_every_ending(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.n_chunks = 1000  # 20 s: stopped long before its end
    upstream.behaviour.delay = 0.02
    _, key = await make_app(_limited_dsl(1))
    body = {"auto_generate_name": False, "inputs": {}, "query": "q", "user": "busy"}

    # Held by a running stream: a second request is refused.
    response, lines, first = await _open_stream(client, key, "busy")
    refused = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert refused.status_code == 429
    assert refused.json()["code"] == "too_many_requests"
    assert "maximum concurrent requests allowed is 1" in refused.json()["message"]

    # Stop frees it.
    await client.post(
        f"/v1/chat-messages/{first['task_id']}/stop", json={"user": "busy"}, headers=auth(key)
    )
    async for _ in lines:
        pass
    await response.aclose()
    upstream.behaviour.n_chunks = 3
    upstream.behaviour.delay = 0.0
    ok = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert ok.status_code == 200, ok.text  # finish freed it too

    # Upstream failure frees it.
    upstream.behaviour.status = 500
    failed = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert failed.status_code == 400
    assert failed.json()["code"] == "completion_request_error"
    upstream.behaviour.status = 200

    # Disconnect frees it once the generation ends.
    upstream.behaviour.n_chunks = 10
    upstream.behaviour.delay = 0.02
    response, _, _ = await _open_stream(client, key, "busy")
    await response.aclose()
    deadline = time.monotonic() + 30
    while (
        ok := await client.post("/v1/chat-messages", json=body, headers=auth(key))
    ).status_code != 200:
        assert time.monotonic() < deadline, ok.text
        await asyncio.sleep(0.05)
