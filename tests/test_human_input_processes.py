"""Human input across real `kiln serve` processes: a run that paused on one replica is
resumed by a submission to another, which runs it to its end under the same run id."""

import httpx

from tests.api.test_human_input import workflow_app
from tests.support.dsl import auth, make_app
from tests.support.processes import REPLICA_REDIS, KilnProcess
from tests.support.sse import parse_frames


async def test_a_run_paused_on_one_replica_resumes_on_another(database: str) -> None:
    _, key = await make_app(workflow_app())
    async with (
        KilnProcess(KILN_REDIS_URL=REPLICA_REDIS) as replica_a,
        KilnProcess(KILN_REDIS_URL=REPLICA_REDIS) as replica_b,
    ):
        async with httpx.AsyncClient(timeout=30) as http:
            body = {"inputs": {"name": "Ada"}, "user": "proc-hi", "response_mode": "streaming"}
            paused = await http.post(
                f"{replica_a.url}/v1/workflows/run", json=body, headers=auth(key)
            )
            events = parse_frames(paused.text)
            assert events[-1]["event"] == "workflow_paused", events[-1]
            run_id = events[-1]["workflow_run_id"]
            token = events[-2]["data"]["form_token"]
            submit = {"inputs": {"note": "from b"}, "action": "approve", "user": "proc-hi"}
            done = await http.post(
                f"{replica_b.url}/v1/form/human_input/{token}", json=submit, headers=auth(key)
            )
            assert done.status_code == 200, done.text
            followed = await http.get(
                f"{replica_a.url}/v1/workflow/{run_id}/events",
                params={"user": "proc-hi"},
                headers=auth(key),
            )
            finished = parse_frames(followed.text)[-1]
            assert finished["event"] == "workflow_finished"
            assert finished["workflow_run_id"] == run_id
            assert finished["data"]["status"] == "succeeded"
            assert finished["data"]["outputs"] == {"result": "from b"}
