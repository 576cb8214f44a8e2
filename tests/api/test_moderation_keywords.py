"""sensitive_word_avoidance `keywords`: input moderation answers with the preset (the model
is not called), output moderation replaces the answer at the end or mid-stream."""

import asyncio
from typing import Any

import httpx
import pytest

from app.core.config import get_settings
from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.sse import answer_of, parse_frames

OPENAI = {"provider": "openai", "model": "gpt-4o-mini"}
FORM = [{"text-input": {"variable": "topic", "label": "Topic", "required": False}}]


def _rule(
    keywords: str = "forbidden\nBadWord",
    inputs: bool = True,
    outputs: bool = True,
) -> dict[str, Any]:
    return {
        "enabled": True,
        "type": "keywords",
        "config": {
            "keywords": keywords,
            "inputs_config": {"enabled": inputs, "preset_response": "Input refused."},
            "outputs_config": {"enabled": outputs, "preset_response": "Output refused."},
        },
    }


def _body(query: str, streaming: bool = True, **inputs: str) -> dict[str, Any]:
    return {
        "auto_generate_name": False,
        "inputs": inputs,
        "query": query,
        "response_mode": "streaming" if streaming else "blocking",
        "user": "mod-user",
    }


async def _stream(client: httpx.AsyncClient, key: str, body: dict[str, Any]) -> list[dict]:
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    return parse_frames(resp.text)


async def _stored(client: httpx.AsyncClient, key: str, conversation_id: str) -> dict[str, Any]:
    resp = await client.get(
        "/v1/messages",
        params={"conversation_id": conversation_id, "user": "mod-user"},
        headers=auth(key),
    )
    assert resp.status_code == 200, resp.text
    data: list[dict[str, Any]] = resp.json()["data"]
    assert len(data) == 1
    return data[0]


async def test_blocked_query_streams_preset_without_calling_model(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(chat_dsl(**OPENAI, sensitive_word_avoidance=_rule()))
    events = await _stream(client, key, _body("tell me something FORBIDDEN please"))
    messages = [e for e in events if e["event"] == "message"]
    assert [m["answer"] for m in messages] == list("Input refused.")
    end = events[-1]
    assert end["event"] == "message_end"
    usage = end["metadata"]["usage"]
    assert usage["prompt_tokens"] == 0 and usage["completion_tokens"] == 0
    assert float(usage["total_price"]) == 0 and usage["latency"] == 0
    assert not any(e["event"] == "message_replace" for e in events)
    assert upstream.requests == []
    stored = await _stored(client, key, end["conversation_id"])
    assert stored["answer"] == "Input refused."
    assert stored["query"] == "tell me something FORBIDDEN please"


async def test_blocked_input_value_blocking_mode(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    dsl = chat_dsl(**OPENAI, form=FORM, sensitive_word_avoidance=_rule())
    _, key = await make_app(dsl)
    body = _body("hello", streaming=False, topic="a badword topic")
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    payload = resp.json()
    assert payload["answer"] == "Input refused."
    assert payload["metadata"]["usage"]["total_tokens"] == 0
    assert upstream.requests == []


async def test_clean_input_reaches_model(client: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    _, key = await make_app(chat_dsl(**OPENAI, sensitive_word_avoidance=_rule()))
    events = await _stream(client, key, _body("all fine"))
    assert answer_of(events) == "Hello word word word word"
    assert not any(e["event"] == "message_replace" for e in events)
    assert len(upstream.requests) == 1


async def test_inputs_side_disabled_lets_keyword_through(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    rule = _rule(inputs=False)
    _, key = await make_app(chat_dsl(**OPENAI, sensitive_word_avoidance=rule))
    events = await _stream(client, key, _body("forbidden words"))
    assert answer_of(events) == "Hello word word word word"
    assert len(upstream.requests) == 1


async def test_disabled_feature_does_nothing(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    rule = _rule() | {"enabled": False}
    _, key = await make_app(chat_dsl(**OPENAI, sensitive_word_avoidance=rule))
    events = await _stream(client, key, _body("forbidden"))
    assert answer_of(events) == "Hello word word word word"


async def test_output_flagged_at_end_is_replaced(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.chunks = ["Here ", "is ", "a ", "Forbidden ", "answer"]
    _, key = await make_app(chat_dsl(**OPENAI, sensitive_word_avoidance=_rule()))
    events = await _stream(client, key, _body("hello"))
    kinds = [e["event"] for e in events]
    assert kinds[-2:] == ["message_replace", "message_end"]
    replace = events[-2]
    assert replace["answer"] == "Output refused."
    assert replace["reason"] == "output_moderation"
    assert answer_of(events) == "Here is a Forbidden answer"  # relayed before the check
    stored = await _stored(client, key, events[-1]["conversation_id"])
    assert stored["answer"] == "Output refused."


async def test_output_moderation_triggers_mid_stream(
    client: httpx.AsyncClient, upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "moderation_buffer_size", 8)
    chunks = [f"word{i} " for i in range(200)]  # 10 s: cut long before its end
    chunks[10] = "badword "
    upstream.behaviour.chunks = chunks
    upstream.behaviour.delay = 0.05
    _, key = await make_app(chat_dsl(**OPENAI, sensitive_word_avoidance=_rule()))
    events = await asyncio.wait_for(_stream(client, key, _body("hello")), timeout=30)
    kinds = [e["event"] for e in events if e["event"] != "ping"]
    assert "message_replace" in kinds
    at = kinds.index("message_replace")
    assert kinds[at + 1 :] == ["message_end"]  # nothing relayed after the replacement
    assert events[at]["answer"] == "Output refused."
    relayed = answer_of(events)
    assert "badword" in relayed.lower()
    assert len([k for k in kinds if k == "message"]) < 35  # stopped before the end
    for _ in range(600):  # the upstream stream was closed early
        if upstream.streams_closed_early:
            break
        await asyncio.sleep(0.05)
    assert upstream.streams_closed_early == 1
    assert upstream.streams_completed == 0
    stored = await _stored(client, key, events[-1]["conversation_id"])
    assert stored["answer"] == "Output refused."


async def test_a_rule_without_keywords_is_invalid_param(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    rule = _rule()
    del rule["config"]["keywords"]
    _, key = await make_app(chat_dsl(**OPENAI, sensitive_word_avoidance=rule))
    events = await _stream(client, key, _body("hello"))
    assert events[-1]["event"] == "error"
    assert events[-1]["code"] == "invalid_param"
    assert "keywords is required" in events[-1]["message"]
    assert upstream.requests == []


async def test_console_save_limits_do_not_apply_at_run_time(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    # Dify checks row counts and preset lengths only when its console saves a config; an
    # imported app beyond them is moderated normally.
    rule = _rule(keywords="\n".join(f"k{i}" for i in range(100)) + "\nforbidden")
    rule["config"]["inputs_config"]["preset_response"] = "No. " * 40
    _, key = await make_app(chat_dsl(**OPENAI, sensitive_word_avoidance=rule))
    events = await _stream(client, key, _body("something forbidden"))
    assert events[-1]["event"] == "message_end"
    assert answer_of(events) == "No. " * 40
    assert upstream.requests == []


async def test_a_failed_answer_is_not_moderated(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    # Dify ends a failed generation with its error event; output moderation never runs.
    upstream.behaviour.chunks = ["a forbidden", " word", " more"]
    upstream.behaviour.fail_after = 2
    _, key = await make_app(chat_dsl(**OPENAI, sensitive_word_avoidance=_rule(inputs=False)))
    events = await _stream(client, key, _body("hello"))
    kinds = [e["event"] for e in events]
    assert kinds[-1] == "error" and "message_replace" not in kinds
