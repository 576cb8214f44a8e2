"""Moderation on completion apps: the same pipeline, completion-shaped events."""

from typing import Any

import httpx

from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.sse import answer_of, parse_frames

FORM = [{"paragraph": {"variable": "text", "label": "Text", "required": True}}]
RULE = {
    "enabled": True,
    "type": "keywords",
    "config": {
        "keywords": "forbidden",
        "inputs_config": {"enabled": True, "preset_response": "Input refused."},
        "outputs_config": {"enabled": True, "preset_response": "Output refused."},
    },
}


def _completion_app() -> str:
    return chat_dsl(
        mode="completion",
        provider="openai",
        model="gpt-4o-mini",
        pre_prompt="Rewrite: {{text}}",
        form=FORM,
        sensitive_word_avoidance=RULE,
    )


async def _run(client: httpx.AsyncClient, key: str, text: str) -> list[dict[str, Any]]:
    body = {"inputs": {"text": text}, "response_mode": "streaming", "user": "cm"}
    resp = await client.post("/v1/completion-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    return parse_frames(resp.text)


async def test_blocked_input_answers_with_preset(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(_completion_app())
    events = await _run(client, key, "a forbidden topic")
    assert answer_of(events) == "Input refused."
    assert events[-1]["event"] == "message_end"
    assert all("conversation_id" not in e for e in events)
    assert events[-1]["metadata"]["usage"]["total_tokens"] == 0
    assert upstream.requests == []


async def test_output_replaced_when_model_says_a_keyword(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.chunks = ["This ", "is ", "forbidden ", "text."]
    _, key = await make_app(_completion_app())
    events = await _run(client, key, "harmless")
    replaced = [e for e in events if e["event"] == "message_replace"]
    assert replaced and replaced[-1]["answer"] == "Output refused."
    assert "conversation_id" not in replaced[-1]
    assert events[-1]["event"] == "message_end"
