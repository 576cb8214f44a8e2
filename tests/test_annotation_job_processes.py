"""Annotation-reply jobs across real `kiln serve` processes sharing Redis: a job left by a
killed replica reads as failed once its lease lapses, and a superseded job cannot renew
itself back into the app's running-job claim."""

import asyncio
import time
from typing import Any

import httpx

from app.tasks.annotation_jobs import INTERRUPTED
from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.processes import REPLICA_REDIS, KilnProcess

OPENAI = {"provider": "openai", "model": "gpt-4o-mini"}
# Short leases, so a lapse is quick to observe; renewed every TTL/3, so a replica stalled
# for under two seconds on a loaded machine still keeps them.
LEASE_TTL = 3
ENV = {"KILN_REDIS_URL": REPLICA_REDIS, "KILN_ANNOTATION_JOB_LEASE_TTL": str(LEASE_TTL)}
ENABLE = {
    "score_threshold": 0.9,
    "embedding_provider_name": "openai",
    "embedding_model_name": "text-embedding-3-small",
}


class ReplyApi:
    def __init__(self, http: httpx.AsyncClient, key: str) -> None:
        self.http, self.key = http, key

    async def annotate(self, url: str) -> None:
        body = {"question": "opening hours", "answer": "9 to 5."}
        resp = await self.http.post(f"{url}/v1/apps/annotations", json=body, headers=auth(self.key))
        assert resp.status_code == 201, resp.text

    async def request(self, url: str, action: str) -> dict[str, Any]:
        resp = await self.http.post(
            f"{url}/v1/apps/annotation-reply/{action}", json=ENABLE, headers=auth(self.key)
        )
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    async def status(self, url: str, job_id: str) -> dict[str, Any]:
        resp = await self.http.get(
            f"{url}/v1/apps/annotation-reply/enable/status/{job_id}", headers=auth(self.key)
        )
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    async def wait_for(self, url: str, job_id: str, job_status: str) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while (status := await self.status(url, job_id))["job_status"] != job_status:
            assert time.monotonic() < deadline, status
            await asyncio.sleep(0.05)
        return status


async def test_annotation_job_of_a_killed_replica_reports_error(
    database: str, upstream: FakeUpstream
) -> None:
    upstream.behaviour.hold_embeddings = True  # the job is still embedding when its process dies
    _, key = await make_app(chat_dsl(**OPENAI))
    async with httpx.AsyncClient(timeout=30) as http:
        api = ReplyApi(http, key)
        async with KilnProcess(**ENV) as doomed:
            await api.annotate(doomed.url)
            job_id = (await api.request(doomed.url, "enable"))["job_id"]
            await api.wait_for(doomed.url, job_id, "processing")
            await asyncio.sleep(LEASE_TTL * 1.5)  # longer than the lease: renewals keep it
            assert (await api.status(doomed.url, job_id))["job_status"] == "processing"
            doomed.kill()
        async with KilnProcess(**ENV) as survivor:
            status = await api.wait_for(survivor.url, job_id, "error")  # once the lease lapses
    assert status == {"job_id": job_id, "job_status": "error", "error_msg": INTERRUPTED}


async def test_a_superseded_job_cannot_take_back_the_running_claim(
    database: str, upstream: FakeUpstream
) -> None:
    # E1 runs; a disable supersedes it; E2 claims the app. E1 keeps renewing its own lease
    # but must not renew itself back into the claim: a third enable gets E2.
    upstream.behaviour.hold_embeddings = True  # both jobs stay running
    _, key = await make_app(chat_dsl(**OPENAI))
    async with httpx.AsyncClient(timeout=30) as http:
        api = ReplyApi(http, key)
        async with KilnProcess(**ENV) as replica:
            await api.annotate(replica.url)
            first = await api.request(replica.url, "enable")
            await api.wait_for(replica.url, first["job_id"], "processing")
            await api.request(replica.url, "disable")
            second = await api.request(replica.url, "enable")
            assert second["job_id"] != first["job_id"]
            await asyncio.sleep(LEASE_TTL * 1.2)  # several renewals of both jobs
            third = await api.request(replica.url, "enable")
    assert third == {"job_id": second["job_id"], "job_status": "processing"}
