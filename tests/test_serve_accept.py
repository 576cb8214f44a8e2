"""`kiln serve` accepts new connections in batches (app/accept_loop.py): a burst of
connections opened at once is served in full, each on its own connection; a server told
to stop closes its listening socket at once and still finishes the streams it has."""

import asyncio
import socket

import httpx

from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.processes import KilnProcess
from tests.support.sse import parse_frames


async def _health_on_new_connection(url: str) -> int:
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:  # one connection each
        return (await http.get("/health")).status_code


async def test_a_burst_of_new_connections_is_served(database: str) -> None:
    with KilnProcess() as replica:
        statuses = await asyncio.gather(
            *(_health_on_new_connection(replica.url) for _ in range(300))
        )
        assert statuses == [200] * 300
        async with httpx.AsyncClient(base_url=replica.url, timeout=30) as http:
            answers = await asyncio.gather(*(http.get("/v1/") for _ in range(50)))
        assert {a.status_code for a in answers} == {200}  # keep-alive connections too
        replica.terminate()
        replica.wait()  # uvicorn re-raises SIGTERM once it has shut down
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", replica.port)) != 0  # nothing listens
        assert "Traceback" not in replica.stderr()


async def test_a_draining_server_refuses_new_connections_and_finishes_its_streams(
    database: str, upstream: FakeUpstream
) -> None:
    _, key = await make_app(chat_dsl(provider="openai", model="gpt-4o-mini"))
    upstream.behaviour.hold_completions = True
    with KilnProcess() as replica:
        async with httpx.AsyncClient(base_url=replica.url, timeout=60) as http:
            body = {"inputs": {}, "query": "q", "response_mode": "streaming", "user": "u"}
            request = http.build_request("POST", "/v1/chat-messages", json=body, headers=auth(key))
            response = await http.send(request, stream=True)
            assert response.status_code == 200
            replica.terminate()

            async def refused() -> bool:
                with socket.socket() as probe:
                    return probe.connect_ex(("127.0.0.1", replica.port)) != 0

            deadline = asyncio.get_running_loop().time() + 30
            while not await refused():
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.05)
            upstream.behaviour.hold_completions = False
            events = parse_frames((await response.aread()).decode())
        assert events[-1]["event"] == "message_end"
        replica.wait()
