"""A message still being generated: `GET /v1/messages` lists it as `running` with the
answer saved so far (KILN_ANSWER_SAVE_INTERVAL), text-to-audio treats it as having no
answer yet; once it ends it reads `normal` with the whole answer, or `error` with the
empty answer Dify stores for a failure, whatever was saved while it ran."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx

from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream

OPENAI = {"provider": "openai", "model": "gpt-4o-mini"}
CHUNKS = [f"c{i} " for i in range(8)]
HELD_AFTER = 3
SAVED = "".join(CHUNKS[:HELD_AFTER]).strip()


async def _open(
    client: httpx.AsyncClient, key: str, user: str
) -> tuple[httpx.Response, AsyncIterator[str]]:
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
    return response, response.aiter_lines()


async def _first_event(lines: AsyncIterator[str]) -> dict[str, Any]:
    async for line in lines:
        if line.startswith("data: "):
            event: dict[str, Any] = json.loads(line[6:])
            return event
    raise AssertionError("no event")


async def _rest(response: httpx.Response, lines: AsyncIterator[str]) -> list[dict[str, Any]]:
    events = [json.loads(line[6:]) async for line in lines if line[:6] == "data: "]
    await response.aclose()
    return events


async def _listed(
    client: httpx.AsyncClient, key: str, user: str, conversation_id: str
) -> dict[str, Any]:
    resp = await client.get(
        "/v1/messages", params={"conversation_id": conversation_id, "user": user}, headers=auth(key)
    )
    assert resp.status_code == 200, resp.text
    (message,) = resp.json()["data"]
    return dict(message)


async def _until_listed_running(
    client: httpx.AsyncClient, key: str, user: str, conversation_id: str
) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        message = await _listed(client, key, user, conversation_id)
        if message["status"] == "running" and message["answer"] == SAVED:
            return message
        assert message["status"] == "running" and SAVED.startswith(message["answer"]), message
        assert time.monotonic() < deadline, message
        await asyncio.sleep(0.1)


async def test_a_running_message_lists_as_running_with_its_text_so_far(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.chunks = list(CHUNKS)
    upstream.behaviour.hold_after = HELD_AFTER
    _, key = await make_app(chat_dsl(**OPENAI, text_to_speech={"enabled": True}))
    response, lines = await _open(client, key, "runner")
    try:
        first = await _first_event(lines)
        message = await _until_listed_running(client, key, "runner", first["conversation_id"])
        assert message["error"] is None
        speech = await client.post(
            "/v1/text-to-audio",
            json={"message_id": first["message_id"], "user": "runner"},
            headers=auth(key),
        )
        assert speech.status_code == 200 and speech.json() is None  # no answer yet
    finally:
        upstream.behaviour.hold_after = None
    events = await _rest(response, lines)
    assert events[-1]["event"] == "message_end"
    message = await _listed(client, key, "runner", first["conversation_id"])
    assert (message["status"], message["answer"]) == ("normal", "".join(CHUNKS).strip())


async def test_a_failure_after_a_save_stores_the_empty_answer_dify_stores(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.chunks = list(CHUNKS)
    upstream.behaviour.hold_after = HELD_AFTER
    upstream.behaviour.fail_after = HELD_AFTER  # once released, the upstream drops the stream
    _, key = await make_app(chat_dsl(**OPENAI))
    response, lines = await _open(client, key, "failer")
    try:
        first = await _first_event(lines)
        await _until_listed_running(client, key, "failer", first["conversation_id"])
    finally:
        upstream.behaviour.hold_after = None
    events = await _rest(response, lines)
    assert events[-1]["event"] == "error"
    message = await _listed(client, key, "failer", first["conversation_id"])
    assert (message["status"], message["answer"]) == ("error", "")
    assert message["error"]
