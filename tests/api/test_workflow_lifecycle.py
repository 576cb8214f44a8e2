"""A graph app's run over its life: stopped mid-stream (partial answer kept, upstream
call cancelled), going on after its client left, and counted by the active-request limit."""

import asyncio
import json
import time
from typing import Any

import httpx

from tests.support.dsl import auth, graph_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.sse import parse_frames

START = {"id": "start", "type": "start", "variables": []}
LLM = {
    "id": "llm",
    "type": "llm",
    "model": {"provider": "openai", "name": "gpt-4o-mini", "mode": "chat", "completion_params": {}},
    "prompt_template": [{"role": "user", "text": "{{#sys.query#}}"}],
    "context": {"enabled": False, "variable_selector": []},
    "vision": {"enabled": False},
}


def chatflow() -> str:
    answer = {"id": "answer", "type": "answer", "answer": "{{#llm.text#}}"}
    return graph_dsl("advanced-chat", [START, LLM, answer], [("start", "llm"), ("llm", "answer")])


def workflow() -> str:
    llm = {**LLM, "prompt_template": [{"role": "user", "text": "write"}]}
    end = {
        "id": "end",
        "type": "end",
        "outputs": [{"variable": "text", "value_selector": ["llm", "text"]}],
    }
    return graph_dsl("workflow", [START, llm, end], [("start", "llm"), ("llm", "end")])


async def _until(check: Any, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.02)


async def test_stop_ends_an_advanced_chat_turn_with_its_partial_answer(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.n_chunks = 1000  # 20 s: stopped long before its end
    upstream.behaviour.delay = 0.02
    _, key = await make_app(chatflow())
    body = {"inputs": {}, "query": "long", "response_mode": "streaming", "user": "owner"}
    async with client.stream("POST", "/v1/chat-messages", json=body, headers=auth(key)) as resp:
        lines = resp.aiter_lines()
        frames: list[str] = []
        task_id = None
        async for line in lines:
            if not line:
                continue
            frames.append(line)
            event = json.loads(line[6:]) if line.startswith("data: ") else {}
            task_id = task_id or event.get("task_id")
            if event.get("event") == "message":
                break
        stop = await client.post(
            f"/v1/chat-messages/{task_id}/stop", json={"user": "owner"}, headers=auth(key)
        )
        assert stop.json() == {"result": "success"}
        frames += [line async for line in lines if line]
    events = parse_frames("\n\n".join(frames))
    kinds = [e["event"] for e in events]
    assert kinds[-2:] == ["workflow_finished", "message_end"], kinds
    assert events[-2]["data"]["status"] == "stopped"
    assert events[-2]["data"]["error"] == "Stopped by user."  # Dify's stop reason
    streamed = "".join(e["answer"] for e in events if e["event"] == "message")
    assert streamed
    await _until(lambda: _closed(upstream), "the upstream call was not cancelled")
    messages = await client.get(
        "/v1/messages",
        params={"conversation_id": events[-1]["conversation_id"], "user": "owner"},
        headers=auth(key),
    )
    assert messages.json()["data"][0]["answer"] == streamed.strip()


async def _closed(upstream: FakeUpstream) -> bool:
    return upstream.streams_closed_early + upstream.streams_aborted >= 1


async def test_a_workflow_stop_is_taken_from_any_user_of_the_app(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.hold_completions = True
    _, key = await make_app(workflow())
    body = {"inputs": {}, "response_mode": "streaming", "user": "runner"}
    async with client.stream("POST", "/v1/workflows/run", json=body, headers=auth(key)) as resp:
        lines = resp.aiter_lines()
        first = json.loads((await anext(lines))[6:])
        assert first["event"] == "workflow_started"
        stop = await client.post(
            f"/v1/workflows/tasks/{first['task_id']}/stop",
            json={"user": "someone-else"},
            headers=auth(key),
        )
        assert stop.json() == {"result": "success"}
        rest = parse_frames("\n\n".join([line async for line in lines if line]))
    assert rest[-1]["event"] == "workflow_finished" and rest[-1]["data"]["status"] == "stopped"
    assert rest[-1]["data"]["error"] == "Stopped by user."
    run = await client.get(f"/v1/workflows/run/{first['workflow_run_id']}", headers=auth(key))
    assert (run.json()["status"], run.json()["error"]) == ("stopped", "Stopped by user.")


async def test_a_run_goes_on_after_its_client_left(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.hold_completions = True
    upstream.behaviour.n_chunks = 3
    _, key = await make_app(workflow())
    body = {"inputs": {}, "response_mode": "streaming", "user": "leaver"}
    async with client.stream("POST", "/v1/workflows/run", json=body, headers=auth(key)) as resp:
        first = json.loads((await anext(resp.aiter_lines()))[6:])
    # The client is gone; the model answers only now.
    upstream.behaviour.hold_completions = False
    run_id = first["workflow_run_id"]

    async def finished() -> bool:
        run = await client.get(f"/v1/workflows/run/{run_id}", headers=auth(key))
        return bool(run.json()["status"] == "succeeded")

    await _until(finished, "the run did not finish after its client left")
    run = (await client.get(f"/v1/workflows/run/{run_id}", headers=auth(key))).json()
    assert run["outputs"]["text"] and run["total_steps"] == 3


async def test_graph_runs_take_active_request_slots(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.hold_completions = True
    _, key = await make_app(
        workflow().replace("name: Graph App", "name: Graph App\n  max_active_requests: 1")
    )
    body = {"inputs": {}, "response_mode": "streaming", "user": "limit"}
    async with client.stream("POST", "/v1/workflows/run", json=body, headers=auth(key)) as resp:
        lines = resp.aiter_lines()
        await anext(lines)
        second = await client.post("/v1/workflows/run", json=body, headers=auth(key))
        assert second.status_code == 429 and second.json()["code"] == "too_many_requests"
        upstream.behaviour.hold_completions = False
        _ = [line async for line in lines]
    third = await client.post(
        "/v1/workflows/run", json={**body, "response_mode": "blocking"}, headers=auth(key)
    )
    assert third.status_code == 200, third.text
