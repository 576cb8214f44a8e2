"""Model-calling nodes over HTTP: an advanced-chat LLM node streams through the provider
and remembers the conversation; a workflow of extractor, classifier and structured LLM
runs end to end on the offline model."""

from typing import Any

import httpx

from tests.support.dsl import auth, graph_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.sse import answer_of, parse_frames

START = {"id": "start", "type": "start", "variables": []}
OPENAI = {"provider": "langgenius/openai/openai", "name": "gpt-4o-mini", "mode": "chat"}
OFFLINE = {"provider": "kiln", "name": "echo", "mode": "chat", "completion_params": {}}


def _llm(model: dict[str, Any], **data: Any) -> dict[str, Any]:
    return {
        "id": "talk",
        "type": "llm",
        "model": model,
        "prompt_template": [{"role": "system", "text": "Be brief."}],
        "context": {"enabled": False, "variable_selector": []},
        **data,
    }


async def _turn(
    client: httpx.AsyncClient, key: str, query: str, conversation_id: str = ""
) -> list[dict[str, Any]]:
    body = {
        "inputs": {},
        "query": query,
        "user": "model-nodes",
        "response_mode": "streaming",
        "conversation_id": conversation_id,
    }
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    return [e for e in parse_frames(resp.text) if e["event"] != "ping"]


async def test_an_llm_node_streams_and_remembers_the_conversation(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    memory = {"window": {"enabled": True, "size": 5}, "query_prompt_template": "{{#sys.query#}}"}
    answer = {"id": "out", "type": "answer", "answer": "{{#talk.text#}}"}
    dsl = graph_dsl(
        "advanced-chat",
        [START, _llm(OPENAI, memory=memory), answer],
        [("start", "talk"), ("talk", "out")],
    )
    _, key = await make_app(dsl)
    upstream.behaviour.chunks = ["Hi", " there"]
    first = await _turn(client, key, "first question")
    relayed = [e for e in first if e["event"] == "message"]
    assert [e["answer"] for e in relayed] == ["Hi", " there"]
    assert answer_of(first) == "Hi there"
    end = first[-1]
    assert end["event"] == "message_end"
    assert end["metadata"]["usage"]["completion_tokens"] == 2
    finished = [
        e for e in first if e["event"] == "node_finished" and e["data"]["node_id"] == "talk"
    ]
    assert finished[0]["data"]["outputs"]["finish_reason"] == "stop"
    assert finished[0]["data"]["execution_metadata"]["total_tokens"] > 0

    upstream.behaviour.chunks = ["Again"]
    await _turn(client, key, "second question", end["conversation_id"])
    sent = upstream.requests[-1]["messages"]
    assert sent == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "Hi there"},
        {"role": "user", "content": "second question"},
    ]


async def test_model_nodes_run_end_to_end_offline(client: httpx.AsyncClient) -> None:
    start = {
        "id": "start",
        "type": "start",
        "variables": [{"variable": "text", "label": "Text", "type": "paragraph", "required": True}],
    }
    extract = {
        "id": "extract",
        "type": "parameter-extractor",
        "model": OFFLINE,
        "query": ["start", "text"],
        "reasoning_mode": "function_call",
        "instruction": "",
        "parameters": [
            {"name": "city", "type": "string", "description": "City", "required": True},
            {"name": "days", "type": "number", "description": "Days", "required": True},
        ],
    }
    sort = {
        "id": "sort",
        "type": "question-classifier",
        "model": OFFLINE,
        "query_variable_selector": ["extract", "city"],
        "classes": [{"id": "trip", "name": "Trip"}, {"id": "other", "name": "Other"}],
    }
    schema = {
        "type": "object",
        "properties": {"plan": {"type": "string"}, "nights": {"type": "integer"}},
        "required": ["plan", "nights"],
    }
    plan = _llm(
        OFFLINE,
        id="plan",
        structured_output_enabled=True,
        structured_output={"schema": schema},
        prompt_template=[{"role": "user", "text": "Plan {{#extract.days#}} days"}],
    )
    end = {
        "id": "end",
        "type": "end",
        "outputs": [
            {"variable": "city", "value_selector": ["extract", "city"]},
            {"variable": "ok", "value_selector": ["extract", "__is_success"]},
            {"variable": "class", "value_selector": ["sort", "class_name"]},
            {"variable": "plan", "value_selector": ["plan", "structured_output"]},
        ],
    }
    dsl = graph_dsl(
        "workflow",
        [start, extract, sort, plan, end],
        [("start", "extract"), ("extract", "sort"), ("sort", "plan", "trip"), ("plan", "end")],
    )
    _, key = await make_app(dsl)
    body = {"inputs": {"text": "4 days in Lisbon"}, "user": "offline", "response_mode": "blocking"}
    resp = await client.post("/v1/workflows/run", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    data = resp.json()["data"]
    assert data["status"] == "succeeded", data
    assert data["outputs"] == {
        "city": "echo",
        "ok": 1,
        "class": "Trip",
        "plan": {"plan": "echo", "nights": 0},
    }
