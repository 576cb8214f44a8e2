"""Agents over HTTP: agent-chat apps with tools (the builtin `time` and `audio` tools, the
offline model or the fake OpenAI upstream) stream `agent_thought` / `agent_message` /
`message_file` / `message_end` as Dify does and store their thoughts for `GET /v1/messages`;
a stop mid-loop, the iteration limit, an unconfigured tool refused up front; and an
advanced-chat app whose agent node streams its answer to an answer node."""

import asyncio
import json
import re
from typing import Any

import httpx
import pytest

from tests.conftest import _SERVER_APPS
from tests.support.dsl import auth, chat_dsl, graph_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.sse import answer_of, parse_frames

USER = "agent-tools-user"
TIME_TOOL = {
    "enabled": True,
    "isDeleted": False,
    "notAuthor": False,
    "provider_id": "langgenius/time/time",
    "provider_name": "langgenius/time/time",
    "provider_type": "builtin",
    "tool_label": "Current Time",
    "tool_name": "current_time",
    "tool_parameters": {"format": "%Y-%m-%d %H:%M", "timezone": "Europe/Berlin"},
}
TTS_TOOL = {
    "enabled": True,
    "provider_id": "audio",
    "provider_name": "audio",
    "provider_type": "builtin",
    "tool_label": "Text To Speech",
    "tool_name": "tts",
    "tool_parameters": {},
}
MISSING_TOOL = {
    "enabled": True,
    "provider_id": "9d3f6a2b-51c4-4e8a-a7b2-3c6d0e9f1a25",
    "provider_name": "order_service",
    "provider_type": "api",
    "tool_label": "getOrderStatus",
    "tool_name": "getOrderStatus",
    "tool_parameters": {"order_id": ""},
}
CLOCK = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")


def agent_app(tools: list[dict[str, Any]], max_iteration: int = 5, **model: Any) -> str:
    agent_mode = {
        "enabled": True,
        "max_iteration": max_iteration,
        "prompt": None,
        "strategy": "function_call",
        "tools": tools,
    }
    return chat_dsl(mode="agent-chat", agent_mode=agent_mode, **model)


async def stream(client: httpx.AsyncClient, key: str, query: str, **body: Any) -> list[dict]:
    payload = {
        "inputs": {},
        "query": query,
        "user": USER,
        "response_mode": "streaming",
        "auto_generate_name": False,
        **body,
    }
    resp = await client.post("/v1/chat-messages", json=payload, headers=auth(key))
    assert resp.status_code == 200, resp.text
    return [e for e in parse_frames(resp.text) if e["event"] != "ping"]


async def stored(client: httpx.AsyncClient, key: str, conversation_id: str) -> list[dict]:
    resp = await client.get(
        "/v1/messages", params={"conversation_id": conversation_id, "user": USER}, headers=auth(key)
    )
    assert resp.status_code == 200, resp.text
    return list(resp.json()["data"])


async def test_a_tool_round_then_the_answer_offline(client: httpx.AsyncClient) -> None:
    _, key = await make_app(agent_app([TIME_TOOL]))
    events = await stream(client, key, "What time is it?")
    kinds = [e["event"] for e in events]
    assert kinds[:4] == ["agent_thought"] * 4 and kinds[-2:] == ["agent_thought", "message_end"]
    assert set(kinds[4:-2]) == {"agent_message"}
    first, saved, observed, second = events[:4]
    assert first["id"] == saved["id"] == observed["id"] and first["position"] == 1
    assert (first["tool"], saved["tool"]) == ("", "current_time")
    assert json.loads(saved["tool_input"]) == {"current_time": {}}
    label = {"en_US": "Current Time", "zh_Hans": "Current Time"}
    assert saved["tool_labels"]["current_time"]["en_US"] in (label["en_US"], "current_time")
    observation = json.loads(observed["observation"])
    assert CLOCK.fullmatch(observation["current_time"])
    assert second["position"] == 2 and second["id"] != first["id"]
    answer = answer_of(events)
    assert answer == "Echo (turn 1): What time is it?"
    assert events[-2]["thought"] == answer
    usage = events[-1]["metadata"]["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0

    [message] = await stored(client, key, events[-1]["conversation_id"])
    assert message["answer"] == answer
    thoughts = message["agent_thoughts"]
    assert [t["position"] for t in thoughts] == [1, 2]
    assert thoughts[0]["tool"] == "current_time" and thoughts[0]["id"] == first["id"]
    assert json.loads(thoughts[0]["observation"]) == observation
    assert thoughts[0]["tool_input"] == saved["tool_input"]
    assert (thoughts[1]["tool"], thoughts[1]["thought"]) == ("", answer)


async def test_the_iteration_limit_and_the_history_of_tool_calls(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.tool_calls = [{"name": "current_time", "arguments": "{}"}]
    upstream.behaviour.chunks = ["It is", " late"]
    _, key = await make_app(agent_app([TIME_TOOL], 2, provider="openai", model="gpt-4o-mini"))
    events = await stream(client, key, "Time?")
    thoughts = [e for e in events if e["event"] == "agent_thought"]
    # min(max_iteration, 5) + 1 rounds: two with the tool, the last one without tools.
    assert sorted({t["position"] for t in thoughts}) == [1, 2, 3]
    assert [t["tool"] for t in thoughts if t["observation"]] == ["current_time"] * 2
    assert answer_of(events) == "It is late"
    bodies = [r for r in upstream.requests if r["_path"].endswith("/chat/completions")]
    assert [bool(b.get("tools")) for b in bodies] == [True, True, False]
    assert bodies[1]["messages"][-1]["role"] == "tool"

    # The next turn sends the earlier thoughts back as tool calls and observations.
    upstream.behaviour.tool_calls = None
    more = await stream(client, key, "And now?", conversation_id=events[-1]["conversation_id"])
    assert more[-1]["event"] == "message_end"
    history = upstream.requests[-1]["messages"]
    roles = [m["role"] for m in history]
    assert roles[:-1].count("tool") == 2 and roles[-1] == "user"
    calls = [m for m in history if m.get("tool_calls")]
    assert calls[0]["tool_calls"][0]["function"]["name"] == "current_time"


async def test_a_tools_file_is_a_message_file(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = _SERVER_APPS[-1].state.runtime
    monkeypatch.setattr(runtime.settings, "text_to_speech_model", "kiln/silent-tts")
    _, key = await make_app(agent_app([TTS_TOOL]))
    events = await stream(client, key, "Say it")
    [file_event] = [e for e in events if e["event"] == "message_file"]
    assert file_event["belongs_to"] == "assistant" and file_event["type"] == "audio"
    assert set(file_event) == {
        "event",
        "conversation_id",
        "message_id",
        "created_at",
        "task_id",
        "id",
        "type",
        "belongs_to",
        "url",
    }
    observed = next(e for e in events if e["event"] == "agent_thought" and e["observation"])
    assert observed["message_files"] == [file_event["id"]]
    assert json.loads(observed["observation"]) == {"tts": "Audio generated successfully"}
    audio = await client.get(file_event["url"])
    assert audio.status_code == 200 and audio.content[:4] == b"RIFF"

    [message] = await stored(client, key, events[-1]["conversation_id"])
    [listed] = message["message_files"]
    assert (listed["id"], listed["belongs_to"], listed["transfer_method"]) == (
        file_event["id"],
        "assistant",
        "tool_file",
    )
    assert message["agent_thoughts"][0]["files"] == [file_event["id"]]


async def test_a_stop_mid_loop_keeps_the_thoughts_and_the_partial_answer(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.tool_calls = [{"name": "current_time", "arguments": "{}"}]
    upstream.behaviour.n_chunks = 1000
    upstream.behaviour.delay = 0.02
    _, key = await make_app(agent_app([TIME_TOOL], 1, provider="openai", model="gpt-4o-mini"))
    body = {
        "inputs": {},
        "query": "Time?",
        "user": USER,
        "response_mode": "streaming",
        "auto_generate_name": False,
    }
    seen: list[dict[str, Any]] = []
    async with client.stream("POST", "/v1/chat-messages", json=body, headers=auth(key)) as resp:
        lines = resp.aiter_lines()
        async for line in lines:
            if not line.startswith("data: "):
                continue
            seen.append(json.loads(line[6:]))
            if seen[-1]["event"] == "agent_message":
                break
        stop = await client.post(
            f"/v1/chat-messages/{seen[0]['task_id']}/stop", json={"user": USER}, headers=auth(key)
        )
        assert stop.json() == {"result": "success"}

        async def rest() -> None:
            async for line in lines:
                if line.startswith("data: "):
                    seen.append(json.loads(line[6:]))

        await asyncio.wait_for(rest(), timeout=10)
    assert seen[-1]["event"] == "message_end"
    streamed = answer_of(seen)
    assert 0 < len(streamed) < 1000 * 5
    [message] = await stored(client, key, seen[-1]["conversation_id"])
    assert message["answer"] == streamed.strip() and message["status"] == "normal"
    assert [t["position"] for t in message["agent_thoughts"]] == [1, 2]
    assert message["agent_thoughts"][0]["tool"] == "current_time"


async def test_an_unconfigured_tool_is_refused_naming_the_setting(
    client: httpx.AsyncClient,
) -> None:
    _, key = await make_app(agent_app([TIME_TOOL, MISSING_TOOL]))
    payload = {
        "inputs": {},
        "query": "Where is my order?",
        "user": USER,
        "response_mode": "streaming",
    }
    resp = await client.post("/v1/chat-messages", json=payload, headers=auth(key))
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["code"] == "app_unavailable"
    assert "order_service" in body["message"] and "getOrderStatus" in body["message"]
    assert "tools.openapi" in body["message"]


AGENT_NODE = {
    "id": "agent",
    "type": "agent",
    "agent_strategy_provider_name": "langgenius/agent/agent",
    "agent_strategy_name": "function_calling",
    "agent_strategy_label": "FunctionCalling",
    "agent_parameters": {
        "model": {
            "type": "constant",
            "value": {
                "provider": "kiln",
                "model": "echo",
                "mode": "chat",
                "model_type": "llm",
                "completion_params": {},
                "type": "model-selector",
            },
        },
        "tools": {
            "type": "constant",
            "value": [
                {
                    "enabled": True,
                    "extra": {"description": ""},
                    "parameters": {},
                    "provider_name": "time",
                    "settings": {"timezone": {"value": "UTC"}},
                    "tool_label": "Current Time",
                    "tool_name": "current_time",
                    "type": "builtin",
                }
            ],
        },
        "instruction": {"type": "constant", "value": "Tell the time."},
        "query": {"type": "constant", "value": "{{#sys.query#}}"},
        "maximum_iterations": {"type": "constant", "value": 3},
    },
    "output_schema": None,
}


async def test_an_agent_node_streams_to_an_answer(client: httpx.AsyncClient) -> None:
    dsl = graph_dsl(
        "advanced-chat",
        [
            {"id": "start", "type": "start", "variables": []},
            AGENT_NODE,
            {"id": "answer", "type": "answer", "answer": "{{#agent.text#}}"},
        ],
        [("start", "agent"), ("agent", "answer")],
    )
    _, key = await make_app(dsl)
    events = await stream(client, key, "What time is it?")
    kinds = [e["event"] for e in events]
    assert kinds[-2:] == ["workflow_finished", "message_end"]
    assert events[-2]["data"]["status"] == "succeeded"
    logs = [e for e in events if e["event"] == "agent_log"]
    assert [(log["data"]["label"], log["data"]["status"]) for log in logs][:5] == [
        ("ROUND 1", "start"),
        ("echo Thought", "start"),
        ("echo Thought", "success"),
        ("CALL current_time", "start"),
        ("CALL current_time", "success"),
    ]
    assert CLOCK.match(logs[4]["data"]["data"]["output"]["tool_response"])
    answer = answer_of(events)
    assert answer == "\nEcho (turn 1): What time is it?"
    finished = next(
        e for e in events if e["event"] == "node_finished" and e["data"]["node_id"] == "agent"
    )
    assert finished["data"]["outputs"]["text"] == answer
    assert finished["data"]["execution_metadata"]["tool_info"]["agent_strategy"] == (
        "function_calling"
    )
    [message] = await stored(client, key, events[-1]["conversation_id"])
    assert message["answer"] == answer.strip()


async def test_an_agent_chat_apps_datasets_are_its_retriever_tools(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.integrations.config import KnowledgeBase
    from app.integrations.knowledge.client import ExternalKnowledge
    from app.net.ssrf import AllowList
    from tests.support.knowledge_service import API_KEY, Document, knowledge_service

    dataset = "a3c1e2f4-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
    bases = {"policies": [Document("Vacation is 25 days.", 0.9, "vacation.md")]}
    with knowledge_service(bases) as service:
        mapping = {
            dataset: KnowledgeBase(
                endpoint=service.url, api_key=API_KEY, knowledge_id="policies", name="Policies"
            )
        }
        runtime = _SERVER_APPS[-1].state.runtime
        knowledge = ExternalKnowledge(mapping, AllowList.parse("127.0.0.1/32"))
        monkeypatch.setattr(runtime, "knowledge", knowledge)
        legacy = {"dataset": {"enabled": True, "id": dataset}}
        app_id, key = await make_app(agent_app([legacy], retriever_resource={"enabled": True}))
        events = await stream(client, key, "How long is vacation?")
    saved = next(e for e in events if e["event"] == "agent_thought" and e["tool"])
    # No dataset_configs: Dify's default multiple retrieval, one tool over all datasets.
    tool_name = "dataset_" + app_id.replace("-", "_")
    assert saved["tool"] == tool_name
    observed = next(e for e in events if e["event"] == "agent_thought" and e["observation"])
    assert json.loads(observed["observation"]) == {tool_name: "Vacation is 25 days."}
    [resource] = events[-1]["metadata"]["retriever_resources"]
    assert (resource["dataset_name"], resource["content"], resource["position"]) == (
        "Policies",
        "Vacation is 25 days.",
        1,
    )
    [message] = await stored(client, key, events[-1]["conversation_id"])
    assert message["retriever_resources"][0]["content"] == "Vacation is 25 days."


async def test_an_export_mixing_tools_knowledge_and_an_agent_runs_offline(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chatflow as real exports mix them: knowledge retrieval, a tool node, an agent node
    with a tool, all offline against local services (the model is `kiln/echo`)."""
    from app.integrations.config import KnowledgeBase
    from app.integrations.knowledge.client import ExternalKnowledge
    from app.net.ssrf import AllowList
    from tests.support.knowledge_service import API_KEY, Document, knowledge_service

    dataset = "6f1c2b9e-3a4d-4c5e-8f70-1a2b3c4d5e6f"
    retrieval = {
        "id": "kr",
        "type": "knowledge-retrieval",
        "query_variable_selector": ["sys", "query"],
        "dataset_ids": [dataset],
        "retrieval_mode": "multiple",
        "multiple_retrieval_config": {"top_k": 2, "score_threshold": None},
    }
    clock = {
        "id": "clock",
        "type": "tool",
        "provider_type": "builtin",
        "provider_id": "langgenius/time/time",
        "provider_name": "langgenius/time/time",
        "tool_name": "current_time",
        "tool_label": "Current Time",
        "tool_configurations": {"timezone": "UTC", "format": "%Y-%m-%d %H:%M"},
        "tool_parameters": {},
    }
    agent = {
        **AGENT_NODE,
        "agent_parameters": {
            **AGENT_NODE["agent_parameters"],
            "instruction": {
                "type": "constant",
                "value": "Known: {{#kr.result#}}. Clock: {{#clock.text#}}.",
            },
        },
    }
    dsl = graph_dsl(
        "advanced-chat",
        [
            {"id": "start", "type": "start", "variables": []},
            retrieval,
            clock,
            agent,
            {"id": "answer", "type": "answer", "answer": "{{#clock.text#}} | {{#agent.text#}}"},
        ],
        [("start", "kr"), ("kr", "clock"), ("clock", "agent"), ("agent", "answer")],
    )
    bases = {"handbook": [Document("Lunch is at noon.", 0.8, "lunch.md")]}
    with knowledge_service(bases) as service:
        mapping = {
            dataset: KnowledgeBase(
                endpoint=service.url, api_key=API_KEY, knowledge_id="handbook", name="Handbook"
            )
        }
        runtime = _SERVER_APPS[-1].state.runtime
        knowledge = ExternalKnowledge(mapping, AllowList.parse("127.0.0.1/32"))
        monkeypatch.setattr(runtime, "knowledge", knowledge)
        _, key = await make_app(dsl)
        events = await stream(client, key, "When is lunch?")
    assert events[-2]["event"] == "workflow_finished"
    assert events[-2]["data"]["status"] == "succeeded"
    ran = [e["data"]["node_id"] for e in events if e["event"] == "node_finished"]
    assert ran == ["start", "kr", "clock", "agent", "answer"]
    agent_finished = next(
        e for e in events if e["event"] == "node_finished" and e["data"]["node_id"] == "agent"
    )
    assert "Lunch is at noon." in agent_finished["data"]["inputs"]["instruction"]
    clock_text, agent_text = answer_of(events).split(" | ")
    assert CLOCK.fullmatch(clock_text)
    assert agent_text == "\nEcho (turn 1): When is lunch?"
    assert any(e["event"] == "agent_log" for e in events)
