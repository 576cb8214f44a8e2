"""Annotation reply (dify-api-behavior.md §10.2, §10.3): the enable/disable jobs and
their status, the answer at chat time (direct answer, zero usage, no model call), and the
index kept current under concurrent jobs, disables and edits."""

import asyncio
import logging
import time
import uuid
from typing import Any

import httpx
import pytest
from sqlmodel import select

from app.core.db import session_scope
from app.models import AppAnnotationHitHistory
from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.sse import answer_of, read_stream

OFFLINE = {"embedding_provider_name": "kiln", "embedding_model_name": "hash-256"}
OPENAI = {"embedding_provider_name": "openai", "embedding_model_name": "text-embedding-3-small"}
ZERO_USAGE = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "total_price": "0"}


async def _app(client: httpx.AsyncClient, *pairs: tuple[str, str]) -> tuple[str, list[str]]:
    _, key = await make_app(chat_dsl(provider="openai", model="gpt-4o-mini"))
    ids = []
    for question, answer in pairs:
        resp = await client.post(
            "/v1/apps/annotations", json={"question": question, "answer": answer}, headers=auth(key)
        )
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()["id"])
    return key, ids


async def _action(
    client: httpx.AsyncClient, key: str, action: str, threshold: float, model: dict[str, str]
) -> str:
    body = {"score_threshold": threshold, **model}
    resp = await client.post(f"/v1/apps/annotation-reply/{action}", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert set(data) == {"job_id", "job_status"} and data["job_status"] == "waiting"
    return str(data["job_id"])


async def _wait(client: httpx.AsyncClient, key: str, action: str, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        resp = await client.get(
            f"/v1/apps/annotation-reply/{action}/status/{job_id}", headers=auth(key)
        )
        assert resp.status_code == 200, resp.text
        data: dict[str, Any] = resp.json()
        if data["job_status"] in ("completed", "error") or time.monotonic() > deadline:
            return data
        assert data["job_status"] in ("waiting", "processing")
        await asyncio.sleep(0.02)


async def _enable(
    client: httpx.AsyncClient, key: str, threshold: float = 0.9, model: dict[str, str] = OFFLINE
) -> None:
    job_id = await _action(client, key, "enable", threshold, model)
    status = await _wait(client, key, "enable", job_id)
    assert status == {"job_id": job_id, "job_status": "completed", "error_msg": ""}


async def _chat(
    client: httpx.AsyncClient, key: str, query: str, streaming: bool = True
) -> tuple[str, list[dict[str, Any]]]:
    body = {
        "inputs": {},
        "query": query,
        "user": "u1",
        "response_mode": "streaming" if streaming else "blocking",
        "auto_generate_name": False,
    }
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    if not streaming:
        data = resp.json()
        return data["answer"], [data]
    _, events = await read_stream(resp)
    return answer_of(events), events


def _model_calls(upstream: FakeUpstream) -> list[dict[str, Any]]:
    return [r for r in upstream.requests if r["_path"].endswith("completions")]


async def _held_in_embedding(upstream: FakeUpstream) -> None:
    """Wait until a job's embeddings request has reached the (held) upstream: the job is
    then running, whatever the machine's speed."""
    deadline = time.monotonic() + 30
    while not _embedding_calls(upstream):
        assert time.monotonic() < deadline, "no embeddings request reached the upstream"
        await asyncio.sleep(0.02)


def _embedding_calls(upstream: FakeUpstream) -> list[dict[str, Any]]:
    return [r for r in upstream.requests if r["_path"].endswith("embeddings")]


async def test_hit_streams_direct_answer_without_model(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    key, ids = await _app(client, ("What are your opening hours?", "9 to 5."), ("Who?", "Us."))
    await _enable(client, key, 0.9)
    answer, events = await _chat(client, key, "what are your opening hours")
    assert answer == "9 to 5."
    messages = [e for e in events if e["event"] == "message"]
    assert [e["answer"] for e in messages] == list("9 to 5.")  # one character per event
    end = events[-1]
    assert end["event"] == "message_end"
    reply = end["metadata"]["annotation_reply"]
    assert reply["id"] == ids[0] and set(reply["account"]) == {"id", "name"}
    assert end["metadata"]["usage"].items() >= ZERO_USAGE.items()
    assert _model_calls(upstream) == []  # the model was not called

    answer, [body] = await _chat(client, key, "What are your opening hours?", streaming=False)
    assert answer == "9 to 5." and body["metadata"]["annotation_reply"]["id"] == ids[0]
    assert body["metadata"]["usage"]["total_tokens"] == 0
    assert _model_calls(upstream) == []

    listed = (await client.get("/v1/apps/annotations", headers=auth(key))).json()["data"]
    assert {d["id"]: d["hit_count"] for d in listed} == {ids[0]: 2, ids[1]: 0}
    async with session_scope() as session:
        hits = (
            await session.exec(
                select(AppAnnotationHitHistory).where(
                    AppAnnotationHitHistory.annotation_id == ids[0]
                )
            )
        ).all()
    assert sorted(h.question for h in hits) == [
        "What are your opening hours?",
        "what are your opening hours",
    ]
    assert all(h.score >= 0.9 and h.annotation_content == "9 to 5." for h in hits)
    assert all(h.from_end_user_id and h.message_id for h in hits)

    # a stored message carries the answer and the metadata
    conversation_id = events[0]["conversation_id"]
    resp = await client.get(
        "/v1/messages", params={"conversation_id": conversation_id, "user": "u1"}, headers=auth(key)
    )
    assert resp.json()["data"][0]["answer"] == "9 to 5."


async def test_miss_and_disabled_fall_through_to_model(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    key, _ = await _app(client, ("What are your opening hours?", "9 to 5."))
    answer, _ = await _chat(client, key, "What are your opening hours?")  # not enabled
    assert answer == "Hello word word word word" and len(_model_calls(upstream)) == 1
    await _enable(client, key, 0.95)
    answer, events = await _chat(client, key, "Tell me a story about dragons")
    assert answer == "Hello word word word word" and len(_model_calls(upstream)) == 2
    assert "annotation_reply" not in events[-1]["metadata"]
    job_id = await _action(client, key, "disable", 0.9, OFFLINE)
    assert (await _wait(client, key, "disable", job_id))["job_status"] == "completed"
    answer, _ = await _chat(client, key, "What are your opening hours?")
    assert answer == "Hello word word word word" and len(_model_calls(upstream)) == 3


async def test_openai_embeddings_through_gateway(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    key, ids = await _app(client, ("refund policy please", "30 days."), ("ship abroad", "Yes."))
    await _enable(client, key, 0.99, OPENAI)
    batches = _embedding_calls(upstream)
    assert [b["input"] for b in batches] == [["refund policy please", "ship abroad"]]
    assert batches[0]["model"] == "text-embedding-3-small"
    answer, events = await _chat(client, key, "Refund policy please")
    assert answer == "30 days." and events[-1]["metadata"]["annotation_reply"]["id"] == ids[0]
    assert _model_calls(upstream) == []
    assert _embedding_calls(upstream)[-1]["input"] == ["Refund policy please"]


async def test_a_lookup_without_embedding_credentials_falls_through_quietly(
    client: httpx.AsyncClient, upstream: FakeUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    """Annotation reply on with an embedding provider Kiln has no key for: the model
    answers, and the log says why in one line (no traceback for a missing setting)."""
    key, _ = await _app(client)  # nothing to embed: the enable job completes
    missing_key = {"embedding_provider_name": "anthropic", "embedding_model_name": "x"}
    job_id = await _action(client, key, "enable", 0.9, missing_key)
    assert (await _wait(client, key, "enable", job_id))["job_status"] == "completed"
    with caplog.at_level(logging.WARNING, logger="kiln.annotations"):
        answer, _ = await _chat(client, key, "q")
    assert answer == "Hello word word word word"
    [record] = [r for r in caplog.records if "lookup failed" in r.getMessage()]
    assert "ANTHROPIC_API_KEY" in record.getMessage() and record.exc_info is None


async def test_job_errors_and_status_lookup(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    key, _ = await _app(client, ("q", "a"))
    missing_key = {"embedding_provider_name": "anthropic", "embedding_model_name": "x"}
    job_id = await _action(client, key, "enable", 0.9, missing_key)
    status = await _wait(client, key, "enable", job_id)
    assert status["job_status"] == "error" and "ANTHROPIC_API_KEY" in status["error_msg"]
    upstream.behaviour.embedding_status = 500
    job_id = await _action(client, key, "enable", 0.9, OPENAI)
    status = await _wait(client, key, "enable", job_id)
    assert status["job_status"] == "error" and "500" in status["error_msg"]
    assert "sk-test" not in status["error_msg"]

    resp = await client.get(
        f"/v1/apps/annotation-reply/enable/status/{uuid.uuid4()}", headers=auth(key)
    )
    assert resp.status_code == 400
    assert resp.json() == {
        "code": "invalid_param",
        "message": "The job does not exist.",
        "status": 400,
    }
    resp = await client.get(  # the job exists under its own action only
        f"/v1/apps/annotation-reply/disable/status/{job_id}", headers=auth(key)
    )
    assert resp.status_code == 400
    resp = await client.get("/v1/apps/annotation-reply/enable/status/nope", headers=auth(key))
    assert resp.status_code == 404

    body = {"score_threshold": 0.5, **OFFLINE}
    resp = await client.post("/v1/apps/annotation-reply/toggle", json=body, headers=auth(key))
    assert resp.status_code == 400
    assert resp.json()["message"] == "Unsupported annotation reply action"
    for bad in ({**OFFLINE}, {"score_threshold": 0.5}, {"score_threshold": "x", **OFFLINE}):
        resp = await client.post("/v1/apps/annotation-reply/disable", json=bad, headers=auth(key))
        assert resp.status_code == 400 and resp.json()["code"] == "invalid_param", resp.text


async def test_an_enable_while_one_runs_gets_the_running_job(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    key, ids = await _app(client, ("opening hours", "9 to 5."))
    upstream.behaviour.hold_embeddings = True
    running = await _action(client, key, "enable", 0.99, OPENAI)
    await _held_in_embedding(upstream)
    body = {"score_threshold": 0.5, **OFFLINE}
    for _ in range(2):  # Dify: the running job's id, `processing`; its settings stand
        resp = await client.post("/v1/apps/annotation-reply/enable", json=body, headers=auth(key))
        assert resp.json() == {"job_id": running, "job_status": "processing"}
    upstream.behaviour.hold_embeddings = False
    assert (await _wait(client, key, "enable", running))["job_status"] == "completed"
    answer, events = await _chat(client, key, "opening hours")  # embedded by OpenAI
    assert answer == "9 to 5." and events[-1]["metadata"]["annotation_reply"]["id"] == ids[0]
    answer, _ = await _chat(client, key, "what are the opening hours")  # below 0.99
    assert answer == "Hello word word word word"
    # Once it has ended, the next enable is a new job with its own settings.
    fresh = await _action(client, key, "enable", 0.5, OFFLINE)
    assert fresh != running
    assert (await _wait(client, key, "enable", fresh))["job_status"] == "completed"
    answer, _ = await _chat(client, key, "what are the opening hours")
    assert answer == "9 to 5."


async def test_enable_after_a_superseding_disable_is_a_new_job(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    key, _ = await _app(client, ("opening hours", "9 to 5."))
    upstream.behaviour.hold_embeddings = True
    first = await _action(client, key, "enable", 0.5, OPENAI)
    await _held_in_embedding(upstream)
    await _action(client, key, "disable", 0.5, OPENAI)
    second = await _action(client, key, "enable", 0.5, OFFLINE)  # not the superseded one
    assert second != first
    upstream.behaviour.hold_embeddings = False
    assert (await _wait(client, key, "enable", second))["job_status"] == "completed"
    assert (await _wait(client, key, "enable", first))["job_status"] == "error"
    answer, _ = await _chat(client, key, "opening hours")
    assert answer == "9 to 5."


async def test_disable_during_enable_wins(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    key, _ = await _app(client, ("opening hours", "9 to 5."))
    upstream.behaviour.hold_embeddings = True
    enable = await _action(client, key, "enable", 0.5, OPENAI)
    await _held_in_embedding(upstream)
    disable = await _action(client, key, "disable", 0.5, OPENAI)
    upstream.behaviour.hold_embeddings = False
    assert (await _wait(client, key, "disable", disable))["job_status"] == "completed"
    assert (await _wait(client, key, "enable", enable))["job_status"] == "error"
    answer, _ = await _chat(client, key, "opening hours")
    assert answer == "Hello word word word word" and len(_model_calls(upstream)) == 1


async def test_edits_keep_the_index_current(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    key, ids = await _app(client, ("opening hours", "9 to 5."))
    await _enable(client, key, 0.99)
    resp = await client.put(
        f"/v1/apps/annotations/{ids[0]}",
        json={"question": "parking spaces", "answer": "Plenty."},
        headers=auth(key),
    )
    assert resp.status_code == 200
    resp = await client.post(
        "/v1/apps/annotations",
        json={"question": "pets allowed", "answer": "Yes."},
        headers=auth(key),
    )
    assert (await _chat(client, key, "parking spaces"))[0] == "Plenty."
    assert (await _chat(client, key, "pets allowed"))[0] == "Yes."
    assert len(_model_calls(upstream)) == 0
    assert (await _chat(client, key, "opening hours"))[0] == "Hello word word word word"
    resp = await client.delete(f"/v1/apps/annotations/{ids[0]}", headers=auth(key))
    assert resp.status_code == 204
    assert (await _chat(client, key, "parking spaces"))[0] == "Hello word word word word"


async def test_edit_during_enable_is_reembedded(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    key, ids = await _app(client, ("opening hours", "9 to 5."))
    upstream.behaviour.hold_embeddings = True
    job_id = await _action(client, key, "enable", 0.99, OPENAI)
    await _held_in_embedding(upstream)  # the job is embedding the old question now
    resp = await client.put(
        f"/v1/apps/annotations/{ids[0]}",
        json={"question": "parking spaces", "answer": "Plenty."},
        headers=auth(key),
    )
    assert resp.status_code == 200
    upstream.behaviour.hold_embeddings = False
    assert (await _wait(client, key, "enable", job_id))["job_status"] == "completed"
    assert (await _chat(client, key, "parking spaces"))[0] == "Plenty."
    assert (await _chat(client, key, "opening hours"))[0] == "Hello word word word word"
