"""Status of annotation-reply jobs, where every replica sees it: Redis when configured
(Dify's keys `{action}_app_annotation_job_{id}` / `..._error_{id}`), else in-process.

In Redis a waiting or running job also holds a short lease that its process renews; a job
whose lease lapsed was left by a dead process and reads as `error` (Dify's Celery would
retry it; Kiln has no queue to take the job over, so the client enables again)."""

import time
from dataclasses import dataclass

from redis.asyncio import Redis

from app.runtime import Runtime

WAITING, PROCESSING, COMPLETED, ERROR = "waiting", "processing", "completed", "error"
FINISHED_TTL = 600  # seconds a finished job stays visible (Dify)
RUNNING_TTL = 86400  # upper bound; a dead process's job is caught by its lease first
INTERRUPTED = "The job was interrupted: the process running it stopped."


@dataclass(slots=True)
class JobStatus:
    status: str
    error: str = ""


def _job_key(action: str, job_id: str) -> str:
    return f"{action}_app_annotation_job_{job_id}"


def _error_key(action: str, job_id: str) -> str:
    return f"{action}_app_annotation_error_{job_id}"


def _lease_key(action: str, job_id: str) -> str:
    return f"kiln:{action}_app_annotation_job_lease_{job_id}"


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
        if status in (WAITING, PROCESSING):
            pipe.set(_lease_key(action, job_id), 1, ex=runtime.settings.annotation_job_lease_ttl)
        await pipe.execute()


# Atomically: a job still waiting/processing whose lease is gone becomes `error`, so a
# reader cannot overwrite a result its job wrote in between. Returns the status.
_MARK_INTERRUPTED = """
local status = redis.call('GET', KEYS[1])
if (status == 'waiting' or status == 'processing') and redis.call('EXISTS', KEYS[3]) == 0 then
  redis.call('SET', KEYS[1], 'error', 'EX', ARGV[2])
  redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
  return 'error'
end
return status or ''
"""


async def renew_lease(runtime: Runtime, action: str, job_id: str) -> None:
    if runtime.redis is not None:
        ttl = runtime.settings.annotation_job_lease_ttl
        await runtime.redis.set(_lease_key(action, job_id), 1, ex=ttl)


async def get_status(runtime: Runtime, action: str, job_id: str) -> JobStatus | None:
    redis: Redis | None = runtime.redis
    if redis is None:
        return _local.get(_job_key(action, job_id))
    raw = await redis.get(_job_key(action, job_id))
    if raw is None:
        return None
    status = raw.decode() if isinstance(raw, bytes) else str(raw)
    if status in (WAITING, PROCESSING) and not await redis.exists(_lease_key(action, job_id)):
        keys = [_job_key(action, job_id), _error_key(action, job_id), _lease_key(action, job_id)]
        raw = await redis.eval(_MARK_INTERRUPTED, 3, *keys, INTERRUPTED, FINISHED_TTL)
        status = raw.decode() if isinstance(raw, bytes) else str(raw)
        if not status:
            return None
    error = ""
    if status == ERROR:
        raw_error = await redis.get(_error_key(action, job_id))
        if raw_error is not None:
            error = raw_error.decode() if isinstance(raw_error, bytes) else str(raw_error)
    return JobStatus(status, error)
