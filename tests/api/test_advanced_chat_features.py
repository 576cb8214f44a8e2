"""Advanced-chat turns get the chat features classic apps have, from `workflow.features`:
input moderation and annotation reply answer before the workflow runs, output moderation
replaces the streamed answer."""

from typing import Any

import httpx

from tests.api.test_annotation_reply import _enable
from tests.api.test_moderation_keywords import _rule
from tests.support.dsl import auth, graph_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.sse import answer_of, parse_frames

START = {"id": "start", "type": "start", "variables": []}


def _app(answer: str, **features: Any) -> str:
    node = {"id": "answer", "type": "answer", "answer": answer}
    return graph_dsl("advanced-chat", [START, node], [("start", "answer")], **features)


async def _turn(client: httpx.AsyncClient, key: str, query: str) -> list[dict[str, Any]]:
    body = {"inputs": {}, "query": query, "user": "adv", "response_mode": "streaming"}
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    return [e for e in parse_frames(resp.text) if e["event"] != "ping"]


async def test_input_moderation_answers_without_running_the_workflow(
    client: httpx.AsyncClient,
) -> None:
    _, key = await make_app(_app("workflow ran", sensitive_word_avoidance=_rule()))
    events = await _turn(client, key, "say something forbidden")
    kinds = {e["event"] for e in events}
    assert answer_of(events) == "Input refused."
    assert "workflow_started" not in kinds and events[-1]["event"] == "message_end"
    clean = await _turn(client, key, "hello")
    assert answer_of(clean) == "workflow ran" and clean[0]["event"] == "workflow_started"


async def test_output_moderation_replaces_the_answer(client: httpx.AsyncClient) -> None:
    _, key = await make_app(_app("this has a BadWord in it", sensitive_word_avoidance=_rule()))
    events = await _turn(client, key, "hello")
    replaced = [e for e in events if e["event"] == "message_replace"]
    assert replaced and replaced[-1]["answer"] == "Output refused."
    assert events[-1]["event"] == "message_end"
    conversation_id = events[-1]["conversation_id"]
    stored = await client.get(
        "/v1/messages",
        params={"conversation_id": conversation_id, "user": "adv"},
        headers=auth(key),
    )
    assert stored.json()["data"][0]["answer"] == "Output refused."


async def test_output_moderation_mid_stream_stops_the_run_with_dify_s_reason(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    llm = {
        "id": "talk",
        "type": "llm",
        "model": {"provider": "openai", "name": "gpt-4o-mini", "mode": "chat"},
        "prompt_template": [{"role": "user", "text": "{{#sys.query#}}"}],
        "context": {"enabled": False, "variable_selector": []},
    }
    answer = {"id": "answer", "type": "answer", "answer": "{{#talk.text#}}"}
    dsl = graph_dsl(
        "advanced-chat",
        [START, llm, answer],
        [("start", "talk"), ("talk", "answer")],
        sensitive_word_avoidance=_rule(),
    )
    _, key = await make_app(dsl)
    # A long answer whose first words are refused: the check after the first buffer stops it.
    upstream.behaviour.chunks = ["BadWord "] + ["and more "] * 400
    upstream.behaviour.delay = 0.01
    events = await _turn(client, key, "hello")
    finished = next(e for e in events if e["event"] == "workflow_finished")["data"]
    assert (finished["status"], finished["error"]) == ("stopped", "Stopped by output moderation.")
    assert events[-1]["event"] == "message_end"


async def test_annotation_reply_answers_before_the_workflow(client: httpx.AsyncClient) -> None:
    _, key = await make_app(_app("workflow ran"))
    created = await client.post(
        "/v1/apps/annotations",
        json={"question": "When do you open?", "answer": "At nine."},
        headers=auth(key),
    )
    assert created.status_code == 201, created.text
    await _enable(client, key, 0.9)
    events = await _turn(client, key, "When do you open?")
    assert answer_of(events) == "At nine."
    end = events[-1]
    assert end["event"] == "message_end" and "annotation_reply" in end["metadata"]
    assert "workflow_started" not in {e["event"] for e in events}
