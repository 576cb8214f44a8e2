"""`sys.dialogue_count` of an advanced-chat turn is Dify's `get_thread_messages_length + 1`:
every earlier message of the conversation counts, those whose answer is empty and those
whose run failed included. Chatflows that branch on it (a questionnaire asking one question
per turn) would otherwise repeat a step for ever after a turn that answered nothing."""

from typing import Any

import httpx

from tests.support.dsl import auth, graph_dsl, make_app
from tests.support.sse import answer_of, parse_frames


def _when(query: str) -> dict[str, Any]:
    condition = {
        "comparison_operator": "is",
        "id": f"when-{query}",
        "value": query,
        "varType": "string",
        "variable_selector": ["sys", "query"],
    }
    return {"case_id": query, "conditions": [condition], "logical_operator": "and"}


def _app() -> str:
    nodes = [
        {"id": "start", "type": "start", "variables": []},
        {"id": "route", "type": "if-else", "cases": [_when("quiet"), _when("fail")]},
        {"id": "silent", "type": "answer", "answer": ""},
        {
            "id": "boom",
            "type": "code",
            "code_language": "python3",
            "code": "def main() -> dict:\n    raise ValueError('no')\n",
            "variables": [],
            "outputs": {"out": {"type": "string", "children": None}},
        },
        {"id": "count", "type": "answer", "answer": "turn {{#sys.dialogue_count#}}"},
    ]
    edges = [
        ("start", "route"),
        ("route", "silent", "quiet"),
        ("route", "boom", "fail"),
        ("route", "count", "false"),
    ]
    return graph_dsl("advanced-chat", nodes, edges)


async def _turn(client: httpx.AsyncClient, key: str, query: str, cid: str) -> tuple[str, str]:
    body = {
        "inputs": {},
        "query": query,
        "user": "counter",
        "response_mode": "streaming",
        "conversation_id": cid,
    }
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    events = parse_frames(resp.text)
    conversation = next(e["conversation_id"] for e in events if e.get("conversation_id"))
    return answer_of(events), conversation


async def test_turns_with_empty_or_failed_answers_still_count(client: httpx.AsyncClient) -> None:
    _, key = await make_app(_app())
    first, cid = await _turn(client, key, "hello", "")
    assert first == "turn 1"
    assert (await _turn(client, key, "quiet", cid))[0] == ""
    assert (await _turn(client, key, "again", cid))[0] == "turn 3"
    await _turn(client, key, "fail", cid)
    assert (await _turn(client, key, "last", cid))[0] == "turn 5"


async def test_each_conversation_counts_its_own_turns(client: httpx.AsyncClient) -> None:
    _, key = await make_app(_app())
    _, cid = await _turn(client, key, "hello", "")
    await _turn(client, key, "hello", cid)
    assert (await _turn(client, key, "hello", ""))[0] == "turn 1"
