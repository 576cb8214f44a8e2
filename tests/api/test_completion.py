"""Completion apps: `/v1/completion-messages` blocking and streaming, prompt, stop, modes."""

import asyncio
import json
from typing import Any

import httpx

from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.sse import answer_of, parse_frames, read_stream

FORM = [
    {"text-input": {"label": "Topic", "variable": "topic", "required": True, "max_length": 48}},
    {"select": {"label": "Lang", "variable": "lang", "required": True, "options": ["en", "fr"]}},
]
PRE_PROMPT = "Write about {{topic}} in {{lang}}."


def _dsl(**overrides: Any) -> str:
    settings: dict[str, Any] = {"mode": "completion", "pre_prompt": PRE_PROMPT, "form": FORM}
    return chat_dsl(**(settings | overrides))


async def _first_event(lines: Any) -> dict[str, Any]:
    async for line in lines:
        if line.startswith("data: "):
            event: dict[str, Any] = json.loads(line[6:])
            return event
    raise AssertionError("stream ended before any event")


async def _rest(lines: Any) -> list[dict[str, Any]]:
    frames = [line async for line in lines if line]
    return parse_frames("\n\n".join(frames))


async def test_completion_blocking_default_mode_and_optional_query(
    client: httpx.AsyncClient,
) -> None:
    _, key = await make_app(_dsl())
    body = {"inputs": {"topic": "cats", "lang": "fr"}, "user": "cb-u"}  # no query, no mode
    resp = await client.post("/v1/completion-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    data = resp.json()
    assert data["event"] == "message"
    assert data["mode"] == "completion"
    assert "conversation_id" not in data
    assert data["id"] == data["message_id"]
    assert isinstance(data["task_id"], str) and data["task_id"]
    assert isinstance(data["created_at"], int)
    # The offline model echoes the last user message: the rendered pre-prompt.
    assert data["answer"].strip() == "Echo (turn 1): Write about cats in fr."
    usage = data["metadata"]["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


async def test_completion_streaming_events_have_no_conversation_id(
    client: httpx.AsyncClient,
) -> None:
    _, key = await make_app(_dsl())
    body = {
        "inputs": {"topic": "owls", "lang": "en"},
        "query": "",
        "response_mode": "streaming",
        "user": "cs-u",
    }
    async with client.stream(
        "POST", "/v1/completion-messages", json=body, headers=auth(key)
    ) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        raw, events = await read_stream(resp)
    events = [e for e in events if e["event"] != "ping"]
    kinds = [e["event"] for e in events]
    assert kinds[-1] == "message_end", raw
    assert set(kinds[:-1]) == {"message"}
    first = events[0]
    for event in events:
        assert "conversation_id" not in event, event
        assert event["message_id"] == first["message_id"]
        assert event["task_id"] == first["task_id"]
        assert event["created_at"] == first["created_at"]
    assert events[-1]["id"] == first["message_id"]
    assert "usage" in events[-1]["metadata"]
    assert answer_of(events).strip() == "Echo (turn 1): Write about owls in en."


async def test_completion_prompt_is_rendered_pre_prompt(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(_dsl(provider="openai", model="gpt-4o-mini"))
    inputs = {"topic": "tea {{lang}}<|endoftext|>", "lang": "fr", "ignored": "x"}
    resp = await client.post(
        "/v1/completion-messages",
        json={"inputs": inputs, "user": "cp-u"},
        headers=auth(key),
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["answer"] == "Hello word word word word"
    # No query: a single user message carrying the pre-prompt (values neutralised).
    expected = "Write about tea {lang} in fr.\n"
    assert upstream.requests[-1]["messages"] == [{"role": "user", "content": expected}]

    with_query = await client.post(
        "/v1/completion-messages",
        json={"inputs": inputs, "query": "Keep it short", "user": "cp-u"},
        headers=auth(key),
    )
    assert with_query.status_code == 200, with_query.text
    assert upstream.requests[-1]["messages"] == [
        {"role": "system", "content": expected},
        {"role": "user", "content": "Keep it short"},
    ]


async def test_completion_inputs_are_validated(client: httpx.AsyncClient) -> None:
    _, key = await make_app(_dsl())
    missing = await client.post(
        "/v1/completion-messages",
        json={"inputs": {"lang": "en"}, "user": "cv-u"},
        headers=auth(key),
    )
    assert missing.status_code == 400
    assert missing.json() == {
        "code": "invalid_param",
        "message": "topic is required in input form",
        "status": 400,
    }
    bad_option = await client.post(
        "/v1/completion-messages",
        json={"inputs": {"topic": "x", "lang": "de"}, "user": "cv-u"},
        headers=auth(key),
    )
    assert bad_option.status_code == 400
    assert bad_option.json()["message"] == (
        "lang in input form must be one of the following: ['en', 'fr']"
    )
    no_inputs = await client.post(
        "/v1/completion-messages", json={"user": "cv-u"}, headers=auth(key)
    )
    assert no_inputs.status_code == 400
    assert no_inputs.json()["code"] == "invalid_param"


async def test_completion_stop_endpoint(client: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    upstream.behaviour.n_chunks = 1000  # 20 s: stopped long before its end
    upstream.behaviour.delay = 0.02
    _, key = await make_app(_dsl(provider="openai", model="gpt-4o-mini"))
    body = {
        "inputs": {"topic": "rain", "lang": "en"},
        "response_mode": "streaming",
        "user": "stop-u",
    }
    async with client.stream(
        "POST", "/v1/completion-messages", json=body, headers=auth(key)
    ) as resp:
        lines = resp.aiter_lines()
        first = await _first_event(lines)
        assert "conversation_id" not in first
        stop = await client.post(
            f"/v1/completion-messages/{first['task_id']}/stop",
            json={"user": "stop-u"},
            headers=auth(key),
        )
        assert stop.status_code == 200
        assert stop.json() == {"result": "success"}
        rest = await asyncio.wait_for(_rest(lines), timeout=10)
    events = [first, *[e for e in rest if e["event"] != "ping"]]
    assert events[-1]["event"] == "message_end"
    assert "conversation_id" not in events[-1]
    assert 0 < len([e for e in events if e["event"] == "message"]) < 1000

    unknown = await client.post(
        "/v1/completion-messages/no-such-task/stop", json={"user": "stop-u"}, headers=auth(key)
    )
    assert unknown.status_code == 200 and unknown.json() == {"result": "success"}
    no_user = await client.post(
        "/v1/completion-messages/no-such-task/stop", json={}, headers=auth(key)
    )
    assert no_user.status_code == 400
    assert no_user.json()["code"] == "invalid_param"


async def test_mode_mismatch_errors(client: httpx.AsyncClient) -> None:
    _, completion_key = await make_app(_dsl())
    _, chat_key = await make_app(chat_dsl())
    inputs = {"topic": "x", "lang": "en"}

    as_chat = await client.post(
        "/v1/chat-messages",
        json={"inputs": inputs, "query": "hi", "user": "mm-u"},
        headers=auth(completion_key),
    )
    assert as_chat.status_code == 400
    assert as_chat.json()["code"] == "not_chat_app"

    as_completion = await client.post(
        "/v1/completion-messages",
        json={"inputs": {}, "query": "hi", "user": "mm-u"},
        headers=auth(chat_key),
    )
    assert as_completion.status_code == 400
    assert as_completion.json() == {
        "code": "app_unavailable",
        "message": "App unavailable, please check your app configurations.",
        "status": 400,
    }

    stop = await client.post(
        "/v1/completion-messages/any/stop", json={"user": "mm-u"}, headers=auth(chat_key)
    )
    assert stop.status_code == 400
    assert stop.json()["code"] == "app_unavailable"

    listing = await client.get(
        "/v1/conversations", params={"user": "mm-u"}, headers=auth(completion_key)
    )
    assert listing.status_code == 400
    assert listing.json()["code"] == "not_chat_app"
