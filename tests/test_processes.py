"""Real `kiln serve` processes: a stop crosses replicas through Redis, pings while quiet,
graceful shutdown drains streams, and the start-up reaper closes orphaned messages."""

import asyncio
import json

import httpx
from redis.asyncio import Redis
from sqlalchemy import update

from app.core.db import session_scope
from app.models import Message
from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.processes import REPLICA_REDIS, KilnProcess
from tests.support.sse import parse_frames

OPENAI = {"provider": "openai", "model": "gpt-4o-mini"}


async def _stream_until_first_message(
    http: httpx.AsyncClient, url: str, key: str, user: str
) -> tuple[httpx.Response, list[str], dict[str, object]]:
    body = {
        "auto_generate_name": False,
        "inputs": {},
        "query": "q",
        "response_mode": "streaming",
        "user": user,
    }
    request = http.build_request("POST", f"{url}/v1/chat-messages", json=body, headers=auth(key))
    response = await http.send(request, stream=True)
    assert response.status_code == 200
    seen: list[str] = []
    lines = response.aiter_lines()
    async for line in lines:
        if not line:
            continue
        seen.append(line)
        if line.startswith("data: "):
            response.extensions["kiln_lines"] = lines
            return response, seen, json.loads(line[6:])
    raise AssertionError("no message event")


async def _drain(response: httpx.Response) -> list[dict[str, object]]:
    frames = [line async for line in response.extensions["kiln_lines"] if line]
    await response.aclose()
    return parse_frames("\n\n".join(frames))


async def test_stop_on_one_replica_stops_stream_on_another(
    database: str, upstream: FakeUpstream
) -> None:
    upstream.behaviour.first_delay = 0.7
    upstream.behaviour.n_chunks = 1000  # 20 s: stopped long before its end
    upstream.behaviour.delay = 0.02
    _, key = await make_app(chat_dsl(**OPENAI))
    async with (
        KilnProcess(KILN_REDIS_URL=REPLICA_REDIS, KILN_PING_INTERVAL="0.2") as replica_a,
        KilnProcess(KILN_REDIS_URL=REPLICA_REDIS) as replica_b,
    ):
        async with httpx.AsyncClient(timeout=30) as http:
            response, before, first = await _stream_until_first_message(
                http, replica_a.url, key, "carol"
            )
            assert "event: ping" in before  # pinged while the upstream was quiet
            redis = Redis.from_url(REPLICA_REDIS)
            ttl = await redis.ttl(f"kiln:generate_task_belong:{first['task_id']}")
            await redis.aclose()
            assert 0 < ttl <= 1800  # registry entries expire
            stop = await http.post(
                f"{replica_b.url}/v1/chat-messages/{first['task_id']}/stop",
                json={"user": "carol"},
                headers=auth(key),
            )
            assert stop.json() == {"result": "success"}
            events = await asyncio.wait_for(_drain(response), timeout=10)
    assert events[-1]["event"] == "message_end"
    assert len([e for e in events if e["event"] == "message"]) < 1000
    assert upstream.streams_closed_early == 1


async def test_graceful_shutdown_drains_open_stream(database: str, upstream: FakeUpstream) -> None:
    upstream.behaviour.chunks = [f"c{i} " for i in range(30)]
    upstream.behaviour.delay = 0.05
    _, key = await make_app(chat_dsl(**OPENAI))
    replica = await KilnProcess(KILN_SHUTDOWN_GRACE_PERIOD="15").astart()
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            response, _, first = await _stream_until_first_message(http, replica.url, key, "dave")
            replica.terminate()  # SIGTERM mid-stream
            events = await asyncio.wait_for(_drain(response), timeout=20)
        assert events[-1]["event"] == "message_end"
        answer = str(first["answer"]) + "".join(
            str(e["answer"]) for e in events if e["event"] == "message"
        )
        assert answer == "".join(upstream.behaviour.chunks)
        # uvicorn re-raises the signal once it has shut down cleanly.
        assert await asyncio.to_thread(replica.wait, 30) in (0, -15)
    finally:
        replica.terminate()
        replica.wait()


async def test_startup_reaper_closes_orphaned_messages(
    database: str, client: httpx.AsyncClient
) -> None:
    _, key = await make_app(chat_dsl())
    done = await client.post(
        "/v1/chat-messages", json={"inputs": {}, "query": "q", "user": "erin"}, headers=auth(key)
    )
    message_id = done.json()["message_id"]
    async with session_scope() as session:
        # As a process that died mid-generation would have left it.
        await session.exec(
            update(Message)
            .where(Message.id == message_id)  # type: ignore[arg-type]
            .values(is_running=True, worker_id="dead-host-1-deadbeef")
        )
    async with KilnProcess(KILN_REDIS_URL=REPLICA_REDIS):
        pass
    resp = await client.get(
        "/v1/messages",
        params={"conversation_id": done.json()["conversation_id"], "user": "erin"},
        headers=auth(key),
    )
    message = resp.json()["data"][-1]
    assert message["status"] == "error"
    assert "interrupted" in message["error"]


async def test_model_override_runs_a_real_export_offline(database: str) -> None:
    # The app names OpenAI, but no key is set: the override routes it to the offline model.
    _, key = await make_app(chat_dsl(**OPENAI))
    body = {"inputs": {}, "query": "offline please", "user": "frank"}
    async with KilnProcess(KILN_MODEL_OVERRIDE="kiln/echo") as replica:
        async with httpx.AsyncClient(timeout=30) as http:
            resp = await http.post(f"{replica.url}/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    assert resp.json()["answer"] == "Echo (turn 1): offline please"


async def test_execution_time_limit_ends_a_generation(
    database: str, upstream: FakeUpstream
) -> None:
    upstream.behaviour.n_chunks = 500
    upstream.behaviour.delay = 0.02
    _, key = await make_app(chat_dsl(**OPENAI))
    async with KilnProcess(KILN_APP_MAX_EXECUTION_TIME="2") as replica:
        async with httpx.AsyncClient(timeout=30) as http:
            resp = await http.post(
                f"{replica.url}/v1/chat-messages",
                json={"auto_generate_name": False, "inputs": {}, "query": "q", "user": "gina"},
                headers=auth(key),
            )
    assert resp.status_code == 200
    body = resp.json()
    chunks = body["metadata"]["usage"]["completion_tokens"]
    assert 0 < chunks < 500
    assert upstream.streams_closed_early == 1
