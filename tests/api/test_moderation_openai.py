"""sensitive_word_avoidance `openai_moderation`: texts go to the moderation model through
the gateway (the fake upstream's /v1/moderations flags its marker word)."""

from typing import Any

import httpx
import pytest

from app.core.config import get_settings
from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.sse import answer_of, parse_frames

OPENAI = {"provider": "openai", "model": "gpt-4o-mini"}
RULE = {
    "enabled": True,
    "type": "openai_moderation",
    "config": {
        "inputs_config": {"enabled": True, "preset_response": "Not allowed."},
        "outputs_config": {"enabled": True, "preset_response": "Answer withheld."},
    },
}


def _body(query: str) -> dict[str, Any]:
    return {
        "auto_generate_name": False,
        "inputs": {},
        "query": query,
        "response_mode": "streaming",
        "user": "mod-openai",
    }


async def _stream(client: httpx.AsyncClient, key: str, query: str) -> list[dict[str, Any]]:
    resp = await client.post("/v1/chat-messages", json=_body(query), headers=auth(key))
    assert resp.status_code == 200, resp.text
    return parse_frames(resp.text)


def _paths(upstream: FakeUpstream) -> list[str]:
    return [str(r["_path"]) for r in upstream.requests]


async def test_flagged_query_answers_preset(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(chat_dsl(**OPENAI, sensitive_word_avoidance=RULE))
    events = await _stream(client, key, "please FlagMe now")
    assert answer_of(events) == "Not allowed."
    assert all(len(e["answer"]) == 1 for e in events if e["event"] == "message")
    assert events[-1]["event"] == "message_end"
    assert events[-1]["metadata"]["usage"]["total_tokens"] == 0
    # The query is checked; then, as Dify moderates every finished answer, the preset.
    assert _paths(upstream) == ["/v1/moderations", "/v1/moderations"]
    request = upstream.requests[0]
    assert request["model"] == "omni-moderation-latest"
    assert "please FlagMe now" in request["input"]
    assert request["_headers"]["authorization"] == "Bearer sk-test-secret-key-123456"
    assert upstream.requests[1]["input"] == "Not allowed."


async def test_clean_query_checks_input_and_output(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(chat_dsl(**OPENAI, sensitive_word_avoidance=RULE))
    events = await _stream(client, key, "hello")
    assert answer_of(events) == "Hello word word word word"
    assert not any(e["event"] == "message_replace" for e in events)
    assert _paths(upstream) == ["/v1/moderations", "/v1/chat/completions", "/v1/moderations"]
    assert upstream.requests[2]["input"] == "Hello word word word word"


async def test_flagged_output_is_replaced(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.chunks = ["This ", "will ", "flagme ", "soon"]
    _, key = await make_app(chat_dsl(**OPENAI, sensitive_word_avoidance=RULE))
    events = await _stream(client, key, "hello")
    replace = [e for e in events if e["event"] == "message_replace"]
    assert [r["answer"] for r in replace] == ["Answer withheld."]
    assert replace[0]["reason"] == "output_moderation"
    assert events[-1]["event"] == "message_end"


async def test_moderation_failure_is_an_error_event_without_the_key(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.status = 401
    _, key = await make_app(chat_dsl(**OPENAI, sensitive_word_avoidance=RULE))
    resp = await client.post("/v1/chat-messages", json=_body("hello"), headers=auth(key))
    events = parse_frames(resp.text)
    assert events[-1]["event"] == "error"
    assert events[-1]["code"] == "completion_request_error"
    assert "sk-test-secret-key-123456" not in resp.text
    assert _paths(upstream) == ["/v1/moderations"]


async def test_offline_moderation_model_flags_nothing(
    client: httpx.AsyncClient, upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "moderation_model", "kiln/moderation")
    _, key = await make_app(chat_dsl(**OPENAI, sensitive_word_avoidance=RULE))
    events = await _stream(client, key, "flagme")
    assert answer_of(events) == "Hello word word word word"
    assert _paths(upstream) == ["/v1/chat/completions"]
