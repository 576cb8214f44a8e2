"""`GET /v1/messages/{id}/suggested`: follow-up questions from the app's own model, robust
parsing, and Dify's errors (dify-api-behavior.md §9.3)."""

import uuid
from typing import Any

import httpx

from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream

ENABLED = {"suggested_questions_after_answer": {"enabled": True}}


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


async def _suggested(
    client: httpx.AsyncClient, key: str, message_id: str, user: str | None
) -> httpx.Response:
    params = {"user": user} if user is not None else {}
    return await client.get(
        f"/v1/messages/{message_id}/suggested", params=params, headers=auth(key)
    )


def _error(resp: httpx.Response, status: int, code: str, message: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.json() == {"code": code, "message": message, "status": status}


async def test_echo_model_yields_no_questions_from_plain_text(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl(**ENABLED))
    message_id = (await _chat(client, key, "What is Kiln?", "echo-u"))["message_id"]
    resp = await _suggested(client, key, message_id, "echo-u")
    assert resp.status_code == 200, resp.text
    # The echo model quotes the conversation back: no JSON array, no question of its own.
    assert resp.json() == {"result": "success", "data": []}


async def test_echo_model_json_array_is_parsed(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl(**ENABLED))
    query = 'Ask me ["Why?", " How? ", 3, "When?", "Where?"] later'
    message_id = (await _chat(client, key, query, "arr-u"))["message_id"]
    resp = await _suggested(client, key, message_id, "arr-u")
    assert resp.json() == {"result": "success", "data": ["Why?", "How?", "When?"]}


async def test_upstream_questions_from_the_last_turns(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(chat_dsl(provider="openai", model="gpt-4o-mini", **ENABLED))
    upstream.behaviour.chunks = ["An answer."]
    cid = (await _chat(client, key, "turn one", "up-u"))["conversation_id"]
    for index in (2, 3, 4):
        last = await _chat(client, key, f"turn {index}", "up-u", cid)
    upstream.behaviour.chunks = [
        "Here you go:\n```json\n",
        '["What is A?", "What is B?", "What is C?", "What is D?"]',
        "\n```",
    ]
    resp = await _suggested(client, key, last["message_id"], "up-u")
    assert resp.json() == {"result": "success", "data": ["What is A?", "What is B?", "What is C?"]}
    sent = upstream.requests[-1]
    assert sent["model"] == "gpt-4o-mini"
    [prompt] = sent["messages"]
    text = prompt["content"]
    assert "Human: turn 2\nAssistant: An answer.\nHuman: turn 3" in text
    assert "Human: turn 4\nAssistant: An answer." in text
    assert "turn one" not in text  # only the last three turns
    assert "JSON array" in text

    upstream.behaviour.chunks = ["1. Is it fast?\n2) Is it free?\n- Why not", "\n* Who made it?"]
    resp = await _suggested(client, key, last["message_id"], "up-u")
    assert resp.json()["data"] == ["Is it fast?", "Is it free?", "Who made it?"]

    upstream.behaviour.chunks = ['["broken", ']
    assert (await _suggested(client, key, last["message_id"], "up-u")).json()["data"] == []

    upstream.behaviour.status = 500
    resp = await _suggested(client, key, last["message_id"], "up-u")
    assert resp.status_code == 200 and resp.json() == {"result": "success", "data": []}


async def test_suggested_errors(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    message_id = (await _chat(client, key, "hi", "err-u"))["message_id"]
    _error(
        await _suggested(client, key, message_id, "err-u"),
        400,
        "bad_request",
        "Suggested Questions Is Disabled.",
    )
    _error(
        await _suggested(client, key, message_id, None),
        400,
        "invalid_param",
        "Arg user must be provided.",
    )
    missing = "Message Not Exists."
    _error(await _suggested(client, key, message_id, "other"), 404, "not_found", missing)
    _error(await _suggested(client, key, str(uuid.uuid4()), "err-u"), 404, "not_found", missing)
    _, enabled_key = await make_app(chat_dsl(**ENABLED))
    _error(await _suggested(client, enabled_key, message_id, "err-u"), 404, "not_found", missing)
    resp = await _suggested(client, key, "not-a-uuid", "err-u")
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"
    _, completion_key = await make_app(chat_dsl(mode="completion", model_mode="completion"))
    _error(
        await _suggested(client, completion_key, message_id, "err-u"),
        400,
        "not_chat_app",
        "Please check if your app mode matches the right API route.",
    )
