"""Providers outside the direct path go through litellm (here: vLLM's OpenAI-style API)."""

import httpx
import pytest

from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.sse import answer_of, read_stream


async def test_litellm_backend_streams_and_maps_errors(
    client: httpx.AsyncClient, upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VLLM_API_BASE", upstream.base_url)
    monkeypatch.setenv("VLLM_API_KEY", "sk-vllm-secret-987654321")
    upstream.behaviour.chunks = ["Hello", " from", " litellm"]
    _, key = await make_app(chat_dsl(provider="langgenius/vllm/vllm", model="my-model"))
    body = {
        "auto_generate_name": False,
        "inputs": {},
        "query": "hi",
        "response_mode": "streaming",
        "user": "lite",
    }
    async with client.stream("POST", "/v1/chat-messages", json=body, headers=auth(key)) as resp:
        raw, events = await read_stream(resp)
    assert events[-1]["event"] == "message_end", raw
    assert answer_of(events) == "Hello from litellm"
    assert upstream.requests[-1]["model"] == "my-model"
    usage = events[-1]["metadata"]["usage"]
    assert usage["completion_tokens"] == 3

    upstream.behaviour.status = 429
    limited = await client.post(
        "/v1/chat-messages", json={**body, "response_mode": "blocking"}, headers=auth(key)
    )
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limit_error"
    assert "sk-vllm-secret-987654321" not in limited.text
