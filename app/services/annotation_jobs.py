"""Status of annotation-reply jobs, where every replica sees it: Redis when configured
(Dify's keys `{action}_app_annotation_job_{id}` / `..._error_{id}`), else in-process."""

import time
from dataclasses import dataclass

from redis.asyncio import Redis

from app.core.runtime import Runtime

WAITING, PROCESSING, COMPLETED, ERROR = "waiting", "processing", "completed", "error"
FINISHED_TTL = 600  # seconds a finished job stays visible (Dify)
RUNNING_TTL = 86400  # a job whose process died disappears eventually


@dataclass(slots=True)
class JobStatus:
    status: str
    error: str = ""


def _job_key(action: str, job_id: str) -> str:
    return f"{action}_app_annotation_job_{job_id}"


def _error_key(action: str, job_id: str) -> str:
    return f"{action}_app_annotation_error_{job_id}"


class _LocalJobs:
    def __init__(self) -> None:
        self._jobs: dict[str, tuple[JobStatus, float]] = {}

    def set(self, key: str, status: JobStatus, ttl: int) -> None:
        now = time.monotonic()
        self._jobs = {k: v for k, v in self._jobs.items() if v[1] > now}
        self._jobs[key] = (status, now + ttl)

    def get(self, key: str) -> JobStatus | None:
        entry = self._jobs.get(key)
        if entry is None or entry[1] <= time.monotonic():
            return None
        return entry[0]


_local = _LocalJobs()


def _ttl(status: str) -> int:
    return FINISHED_TTL if status in (COMPLETED, ERROR) else RUNNING_TTL


async def set_status(
    runtime: Runtime, action: str, job_id: str, status: str, error: str = ""
) -> None:
    redis: Redis | None = runtime.redis
    if redis is None:
        _local.set(_job_key(action, job_id), JobStatus(status, error), _ttl(status))
        return
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(_job_key(action, job_id), status, ex=_ttl(status))
        if status == ERROR:
            pipe.set(_error_key(action, job_id), error, ex=_ttl(status))
        await pipe.execute()


async def get_status(runtime: Runtime, action: str, job_id: str) -> JobStatus | None:
    redis: Redis | None = runtime.redis
    if redis is None:
        return _local.get(_job_key(action, job_id))
    raw = await redis.get(_job_key(action, job_id))
    if raw is None:
        return None
    status = raw.decode() if isinstance(raw, bytes) else str(raw)
    error = ""
    if status == ERROR:
        raw_error = await redis.get(_error_key(action, job_id))
        if raw_error is not None:
            error = raw_error.decode() if isinstance(raw_error, bytes) else str(raw_error)
    return JobStatus(status, error)
