"""OpenAI-provider apps against the fake upstream: relay, usage and prices, parameters,
error mapping (HTTP and in-stream), partial answers and credential hygiene."""

import importlib.util
import json
import logging
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import fake_upstream
from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.sse import answer_of, read_stream

KEY = "sk-test-secret-key-123456"
KEY_TAIL = "secret-key-123456"
PROVIDERS = ["openai", "langgenius/openai/openai"]
PER_MILLION = Decimal("0.000001")
QUANTUM = Decimal("0.0000001")


def _cost_map_entry(model: str) -> dict[str, Any]:
    spec = importlib.util.find_spec("litellm")
    assert spec is not None and spec.submodule_search_locations
    folder = Path(next(iter(spec.submodule_search_locations)))
    table = json.loads((folder / "model_prices_and_context_window_backup.json").read_text())
    entry: dict[str, Any] = table[model]
    return entry


def _upstream_prompt_words(request: dict[str, Any]) -> int:
    """The fake upstream's own token count: whitespace-separated words of every message."""
    return sum(len(str(m["content"]).split()) for m in request["messages"])


async def _stream(
    client: httpx.AsyncClient, key: str, body: dict[str, Any]
) -> tuple[httpx.Response, str, list[dict[str, Any]]]:
    body = {"auto_generate_name": False, "inputs": {}, "response_mode": "streaming", **body}
    async with client.stream("POST", "/v1/chat-messages", json=body, headers=auth(key)) as resp:
        raw, events = await read_stream(resp)
    return resp, raw, [e for e in events if e["event"] != "ping"]


async def _blocking(client: httpx.AsyncClient, key: str, body: dict[str, Any]) -> httpx.Response:
    body = {"auto_generate_name": False, "inputs": {}, "response_mode": "blocking", **body}
    return await client.post("/v1/chat-messages", json=body, headers=auth(key))


async def _messages(
    client: httpx.AsyncClient, key: str, conversation_id: str, user: str
) -> httpx.Response:
    params = {"conversation_id": conversation_id, "user": user}
    return await client.get("/v1/messages", params=params, headers=auth(key))


def _assert_error_event(event: dict[str, Any], code: str, status: int) -> None:
    assert event["event"] == "error"
    assert event["code"] == code
    assert event["status"] == status
    assert isinstance(event["message"], str) and event["message"]
    assert "task_id" not in event
    for name in ("conversation_id", "message_id", "created_at"):
        assert name in event, name


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_stream_relays_upstream_deltas_in_order(
    client: httpx.AsyncClient, upstream: FakeUpstream, provider: str
) -> None:
    chunks = ["Al", "pha", " be", "ta,", " ", "gam", "ma", "!", " \u00e9t\u00e9 \U0001f525"]
    upstream.behaviour.chunks = chunks
    _, key = await make_app(chat_dsl(provider=provider, model="gpt-4o-mini"))
    resp, raw, events = await _stream(client, key, {"query": "Say it", "user": "relay-u"})
    assert resp.status_code == 200
    assert [e["event"] for e in events][-1] == "message_end", raw
    assert [e["answer"] for e in events if e["event"] == "message"] == chunks
    assert answer_of(events) == "".join(chunks)
    sent = upstream.requests[-1]
    assert sent["_path"] == "/v1/chat/completions"
    assert sent["model"] == "gpt-4o-mini"
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["_headers"]["authorization"] == f"Bearer {KEY}"


async def test_upstream_connections_are_reused(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    """The stream is read to its end after [DONE], so the connection goes back to the pool:
    no new TCP (and, with real providers, TLS) handshake per request."""
    _, key = await make_app(chat_dsl(provider="openai", model="gpt-4o-mini"))
    before = upstream.connections_opened
    for index in range(4):
        resp, raw, events = await _stream(client, key, {"query": "Hi", "user": f"pool-{index}"})
        assert [e["event"] for e in events][-1] == "message_end", raw
    assert upstream.connections_opened - before <= 1


@pytest.mark.parametrize("after_done", ["stall", "close"])
async def test_a_peer_misbehaving_after_done_costs_nothing_of_the_answer(
    client: httpx.AsyncClient, upstream: FakeUpstream, after_done: str
) -> None:
    """After [DONE] the body never ends, or the connection drops mid-body: the answer is
    complete, so it ends normally, and soon (the read timeout would be minutes)."""
    upstream.behaviour.after_done = after_done
    _, key = await make_app(chat_dsl(provider="openai", model="gpt-4o-mini"))
    started = time.monotonic()
    resp, raw, events = await _stream(client, key, {"query": "Hi", "user": "stuck-u"})
    assert [e["event"] for e in events][-1] == "message_end", raw
    assert answer_of(events) == "Hello word word word word"
    assert time.monotonic() - started < 20


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_usage_from_upstream_priced_from_cost_map(
    client: httpx.AsyncClient, upstream: FakeUpstream, provider: str
) -> None:
    # Pieces that are not whole words: Kiln's own estimate would differ from the upstream's.
    upstream.behaviour.chunks = ["Hel", "lo wor", "ld"]
    _, key = await make_app(chat_dsl(provider=provider, model="gpt-4o-mini"))
    blocking = await _blocking(client, key, {"query": "hi there", "user": "price-u"})
    assert blocking.status_code == 200, blocking.text
    resp, raw, events = await _stream(client, key, {"query": "hi there", "user": "price-u"})
    assert events[-1]["event"] == "message_end", raw

    info = _cost_map_entry("gpt-4o-mini")
    prompt_unit = Decimal(str(info["input_cost_per_token"])) / PER_MILLION
    completion_unit = Decimal(str(info["output_cost_per_token"])) / PER_MILLION
    prompt_tokens = _upstream_prompt_words(upstream.requests[-1])
    prompt_price = (prompt_tokens * prompt_unit * PER_MILLION).quantize(QUANTUM, ROUND_HALF_UP)
    completion_price = (3 * completion_unit * PER_MILLION).quantize(QUANTUM, ROUND_HALF_UP)
    for usage in (blocking.json()["metadata"]["usage"], events[-1]["metadata"]["usage"]):
        assert usage["prompt_tokens"] == prompt_tokens
        assert usage["completion_tokens"] == 3
        assert usage["total_tokens"] == prompt_tokens + 3
        for name, unit in (("prompt", prompt_unit), ("completion", completion_unit)):
            text = usage[f"{name}_unit_price"]
            assert isinstance(text, str) and "e" not in text.lower(), text
            assert Decimal(text) == unit
            assert usage[f"{name}_price_unit"] == "0.000001"
        assert usage["prompt_price"] == f"{prompt_price:f}"
        assert usage["completion_price"] == f"{completion_price:f}"
        assert usage["total_price"] == f"{prompt_price + completion_price:f}"
        assert usage["currency"] == "USD"
        assert isinstance(usage["latency"], float) and usage["latency"] >= 0


async def test_unknown_model_is_priced_at_zero(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(chat_dsl(provider="openai", model="kiln-unpriced-model-x1"))
    resp = await _blocking(client, key, {"query": "hello", "user": "zero-u"})
    assert resp.status_code == 200, resp.text
    assert upstream.requests[-1]["model"] == "kiln-unpriced-model-x1"
    usage = resp.json()["metadata"]["usage"]
    assert usage["completion_tokens"] == 5
    assert usage["prompt_tokens"] == _upstream_prompt_words(upstream.requests[-1])
    for name in ("prompt_unit_price", "prompt_price", "completion_unit_price", "completion_price"):
        assert isinstance(usage[name], str) and Decimal(usage[name]) == 0, name
    assert usage["total_price"] == "0"
    assert usage["currency"] == "USD"


async def test_completion_params_and_stop_pass_through(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    params = {
        "temperature": 0.3,
        "top_p": 0.85,
        "max_tokens": 77,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
        "stop": ["END", "###"],
    }
    # Advanced prompt mode: Dify passes `completion_params.stop` as stop sequences there.
    dsl = chat_dsl(
        provider="openai",
        model="gpt-4o-mini",
        params=params,
        prompt_type="advanced",
        chat_prompt_config={"prompt": [{"role": "system", "text": "Be terse."}]},
    )
    _, key = await make_app(dsl)
    resp, raw, events = await _stream(client, key, {"query": "go", "user": "params-u"})
    assert events[-1]["event"] == "message_end", raw
    sent = upstream.requests[-1]
    for name in ("temperature", "top_p", "max_tokens", "presence_penalty", "frequency_penalty"):
        assert sent[name] == params[name], name
    assert sent["stop"] == ["END", "###"]
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["messages"] == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "go"},
    ]


async def test_missing_api_key_is_provider_not_initialize_before_anything(
    client: httpx.AsyncClient, upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    _, key = await make_app(chat_dsl(provider="langgenius/openai/openai", model="gpt-4o-mini"))
    for mode in ("blocking", "streaming"):
        body = {
            "auto_generate_name": False,
            "inputs": {},
            "query": "hi",
            "user": "nokey-u",
            "response_mode": mode,
        }
        resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
        assert resp.status_code == 400, (mode, resp.text)
        assert resp.headers["content-type"].startswith("application/json"), mode
        assert resp.json()["code"] == "provider_not_initialize"
        assert resp.json()["status"] == 400
    assert upstream.requests == []
    listing = await client.get("/v1/conversations", params={"user": "nokey-u"}, headers=auth(key))
    assert listing.status_code == 200
    assert listing.json()["data"] == []


async def test_upstream_rate_limit(client: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    upstream.behaviour.status = 429
    _, key = await make_app(chat_dsl(provider="openai", model="gpt-4o-mini"))
    blocking = await _blocking(client, key, {"query": "hi", "user": "rl-u"})
    assert blocking.status_code == 429, blocking.text
    assert blocking.json()["code"] == "rate_limit_error"
    assert blocking.json()["status"] == 429

    # In a stream Dify maps every model invoke error, a rate limit included, alike.
    resp, raw, events = await _stream(client, key, {"query": "hi", "user": "rl-u"})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert len(events) == 1, raw
    _assert_error_event(events[0], "completion_request_error", 400)


async def test_upstream_server_error_is_completion_request_error(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.status = 500
    _, key = await make_app(chat_dsl(provider="openai", model="gpt-4o-mini"))
    blocking = await _blocking(client, key, {"query": "hi", "user": "e500-u"})
    assert blocking.status_code == 400, blocking.text
    assert blocking.json()["code"] == "completion_request_error"
    assert blocking.json()["status"] == 400

    resp, raw, events = await _stream(client, key, {"query": "hi", "user": "e500-u"})
    assert resp.status_code == 200
    assert len(events) == 1, raw
    _assert_error_event(events[0], "completion_request_error", 400)


async def test_upstream_dying_mid_stream_stores_the_error_not_the_partial_answer(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.chunks = ["Par", "tial", " never", " seen"]
    upstream.behaviour.fail_after = 2
    _, key = await make_app(chat_dsl(provider="openai", model="gpt-4o-mini"))
    resp, raw, events = await _stream(client, key, {"query": "hi", "user": "cut-u"})
    assert resp.status_code == 200
    kinds = [e["event"] for e in events]
    assert kinds == ["message", "message", "error"], raw
    assert answer_of(events) == "Partial"
    _assert_error_event(events[-1], "completion_request_error", 400)

    stored = await _messages(client, key, events[0]["conversation_id"], "cut-u")
    assert stored.status_code == 200, stored.text
    [message] = stored.json()["data"]
    assert message["id"] == events[0]["message_id"]
    assert message["status"] == "error"
    assert message["answer"] == ""  # Dify keeps partial text only on an explicit stop
    assert isinstance(message["error"], str) and message["error"]

    blocking = await _blocking(client, key, {"query": "again", "user": "cut-u"})
    assert blocking.status_code == 400, blocking.text
    assert blocking.json()["code"] == "completion_request_error"


async def test_api_key_never_reaches_clients_or_logs(
    client: httpx.AsyncClient,
    upstream: FakeUpstream,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def echoing_error_body(status: int, message: str | None = None) -> dict[str, Any]:
        text = f"Incorrect API key provided: {KEY}. Authorization: Bearer {KEY}"
        return {"error": {"message": text, "type": "invalid_request_error", "code": "bad_key"}}

    monkeypatch.setattr(fake_upstream, "_error_body", echoing_error_body)
    upstream.behaviour.status = 401
    _, key = await make_app(chat_dsl(provider="openai", model="gpt-4o-mini"))
    bodies: list[str] = []
    with caplog.at_level(logging.DEBUG):
        blocking = await _blocking(client, key, {"query": "hi", "user": "leak-u"})
        bodies.append(blocking.text)
        resp, raw, events = await _stream(client, key, {"query": "hi", "user": "leak-u"})
        bodies.append(raw)
        conversation_id = events[-1]["conversation_id"]
        bodies.append((await _messages(client, key, conversation_id, "leak-u")).text)
        bodies.append(
            (
                await client.get("/v1/conversations", params={"user": "leak-u"}, headers=auth(key))
            ).text
        )
    assert len(upstream.requests) == 2  # the upstream did receive the key, and echoed it
    assert blocking.status_code == 400, blocking.text
    assert blocking.json()["code"] == "completion_request_error"
    assert blocking.json()["message"]
    _assert_error_event(events[-1], "completion_request_error", 400)
    for body in bodies:
        assert KEY not in body and KEY_TAIL not in body, body
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert caplog.records, "DEBUG capture saw no server log records at all"
    assert KEY not in logged and KEY_TAIL not in logged
