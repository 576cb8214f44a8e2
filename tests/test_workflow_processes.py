"""Graph-app runs across real `kiln serve` processes: a stop sent to one replica stops a
run on another, and a killed replica's runs are reaped by the others within seconds."""

import asyncio
import json
import time

import httpx

from tests.api.test_workflow_lifecycle import workflow
from tests.support.dsl import auth, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.processes import REPLICA_REDIS, KilnProcess
from tests.support.sse import parse_frames


async def _start_run(
    http: httpx.AsyncClient, url: str, key: str
) -> tuple[httpx.Response, dict[str, object]]:
    body = {"inputs": {}, "response_mode": "streaming", "user": "proc"}
    request = http.build_request("POST", f"{url}/v1/workflows/run", json=body, headers=auth(key))
    response = await http.send(request, stream=True)
    assert response.status_code == 200
    lines = response.aiter_lines()
    async for line in lines:
        if line.startswith("data: "):
            response.extensions["kiln_lines"] = lines
            return response, json.loads(line[6:])
    raise AssertionError("no event")


async def test_a_stop_on_one_replica_stops_a_run_on_another(
    database: str, upstream: FakeUpstream
) -> None:
    upstream.behaviour.hold_completions = True
    _, key = await make_app(workflow())
    async with (
        KilnProcess(KILN_REDIS_URL=REPLICA_REDIS) as replica_a,
        KilnProcess(KILN_REDIS_URL=REPLICA_REDIS) as replica_b,
    ):
        async with httpx.AsyncClient(timeout=30) as http:
            response, started = await _start_run(http, replica_a.url, key)
            assert started["event"] == "workflow_started"
            stop = await http.post(
                f"{replica_b.url}/v1/workflows/tasks/{started['task_id']}/stop",
                json={"user": "proc"},
                headers=auth(key),
            )
            assert stop.json() == {"result": "success"}
            lines = [line async for line in response.extensions["kiln_lines"] if line]
            await response.aclose()
    events = parse_frames("\n\n".join(lines))
    assert events[-1]["event"] == "workflow_finished"
    assert events[-1]["data"]["status"] == "stopped"


async def test_a_killed_replicas_runs_are_reaped_within_seconds(
    database: str, upstream: FakeUpstream, client: httpx.AsyncClient
) -> None:
    upstream.behaviour.hold_completions = True
    _, key = await make_app(workflow())
    doomed = await KilnProcess(KILN_REDIS_URL=REPLICA_REDIS).astart()
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            response, started = await _start_run(http, doomed.url, key)
            run_id = started["workflow_run_id"]
            doomed.kill()  # no shutdown work at all
            await response.aclose()
    finally:
        doomed.kill()
    running = await client.get(f"/v1/workflows/run/{run_id}", headers=auth(key))
    assert running.json()["status"] == "running"
    async with KilnProcess(KILN_REDIS_URL=REPLICA_REDIS):  # a surviving replica's reaper
        deadline = time.monotonic() + 30
        while True:
            run = (await client.get(f"/v1/workflows/run/{run_id}", headers=auth(key))).json()
            if run["status"] != "running" or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
    assert run["status"] == "failed" and "interrupted" in run["error"]
