"""Agent-chat apps without tools stream and store one agent thought per answer, as Dify's
function-call runner does: `agent_thought` with the first chunk, `agent_message` chunks,
`agent_thought` with the whole thought once saved, then `message_end`."""

from typing import Any

import httpx
from sqlmodel import select

from app.core.db import session_scope
from app.models import MessageAgentThought
from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.sse import answer_of, parse_frames

OPENAI = {"provider": "openai", "model": "gpt-4o-mini"}
AGENT_MODE = {"enabled": True, "strategy": "function_call", "tools": []}
THOUGHT_FIELDS = {
    "event",
    "conversation_id",
    "message_id",
    "created_at",
    "task_id",
    "id",
    "position",
    "thought",
    "observation",
    "tool",
    "tool_labels",
    "tool_input",
    "message_files",
}


async def _stream(client: httpx.AsyncClient, key: str, query: str) -> list[dict[str, Any]]:
    body = {
        "inputs": {},
        "query": query,
        "user": "agent-user",
        "response_mode": "streaming",
        "auto_generate_name": False,
    }
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    return [e for e in parse_frames(resp.text) if e["event"] != "ping"]


async def test_one_thought_frames_the_answer(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(chat_dsl(mode="agent-chat", agent_mode=AGENT_MODE, **OPENAI))
    upstream.behaviour.chunks = ["Hello", " there"]
    events = await _stream(client, key, "Hi")
    kinds = [e["event"] for e in events]
    assert kinds == [
        "agent_thought",
        "agent_message",
        "agent_message",
        "agent_thought",
        "message_end",
    ]
    first, last = events[0], events[-2]
    assert set(first) == THOUGHT_FIELDS
    assert first["id"] == last["id"] and first["position"] == last["position"] == 1
    assert (first["thought"], last["thought"]) == ("", "Hello there")
    assert last["tool"] == "" and last["tool_input"] == "" and last["observation"] == ""
    assert last["tool_labels"] == {} and last["message_files"] == []
    assert answer_of(events) == "Hello there"

    listed = await client.get(
        "/v1/messages",
        params={"conversation_id": events[-1]["conversation_id"], "user": "agent-user"},
        headers=auth(key),
    )
    [item] = listed.json()["data"]
    [thought] = item["agent_thoughts"]
    assert thought == {
        "id": last["id"],
        "chain_id": None,
        "message_id": item["id"],
        "position": 1,
        "thought": "Hello there",
        "tool": "",
        "tool_labels": {},
        "tool_input": "",
        "created_at": thought["created_at"],
        "observation": "",
        "files": [],
    }
    assert isinstance(thought["created_at"], int)


async def test_plain_chat_apps_have_no_thoughts(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(chat_dsl(**OPENAI))
    events = await _stream(client, key, "Hi")
    assert "agent_thought" not in {e["event"] for e in events}
    listed = await client.get(
        "/v1/messages",
        params={"conversation_id": events[-1]["conversation_id"], "user": "agent-user"},
        headers=auth(key),
    )
    assert listed.json()["data"][0]["agent_thoughts"] == []


async def test_deleting_the_conversation_removes_its_thoughts(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(chat_dsl(mode="agent-chat", agent_mode=AGENT_MODE, **OPENAI))
    events = await _stream(client, key, "Hi")
    conversation_id = events[-1]["conversation_id"]
    resp = await client.request(
        "DELETE",
        f"/v1/conversations/{conversation_id}",
        json={"user": "agent-user"},
        headers=auth(key),
    )
    assert resp.status_code == 204
    async with session_scope() as session:
        rows = (
            await session.exec(
                select(MessageAgentThought).where(
                    MessageAgentThought.message_id == events[-1]["message_id"]
                )
            )
        ).all()
    assert rows == []
