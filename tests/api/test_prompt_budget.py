"""A prompt that cannot fit the model's context is refused as Dify refuses it."""

import httpx

from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.sse import read_stream


async def test_prompt_longer_than_context_is_a_completion_request_error(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    # gpt-4o-mini has a 128,000-token context; max_tokens takes all of it.
    dsl = chat_dsl(provider="openai", model="gpt-4o-mini", params={"max_tokens": 128000})
    _, key = await make_app(dsl)
    body = {"inputs": {}, "query": "hello", "user": "budget"}
    blocking = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert blocking.status_code == 400
    assert blocking.json()["code"] == "completion_request_error"
    assert "too long" in blocking.json()["message"]
    streaming = {**body, "response_mode": "streaming"}
    async with client.stream("POST", "/v1/chat-messages", json=streaming, headers=auth(key)) as r:
        _, events = await read_stream(r)
    assert [e["event"] for e in events] == ["error"]
    assert events[0]["code"] == "completion_request_error"
    assert upstream.requests == []
