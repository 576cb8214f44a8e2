"""Annotation-reply enable/disable jobs, where every replica sees them: each job's status
(Dify's keys `{action}_app_annotation_job_{id}` / `..._error_{id}`) and which job is running
for an app (`{action}_app_annotation_{app_id}`, so a second request gets the running job
back). Redis when configured, else in-process; chosen once at start-up.

In Redis a waiting or running job holds a short lease, and its running claim expires, unless
the job renews both: a job whose lease lapsed was left by a dead process and reads as
`error` (Dify's Celery would retry it; Kiln has no queue to take it over, so the client
enables again)."""

import time
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis

WAITING, PROCESSING, COMPLETED, ERROR = "waiting", "processing", "completed", "error"
FINISHED_TTL = 600  # seconds a finished job stays visible (Dify)
RUNNING_TTL = 86400  # upper bound; a dead process's job is caught by its lease first
INTERRUPTED = "The job was interrupted: the process running it stopped."


@dataclass(slots=True)
class JobStatus:
    status: str
    error: str = ""


class AnnotationJobStore(Protocol):
    async def claim(self, action: str, app_id: str, job_id: str) -> str | None:
        """Make `job_id` the app's running `action` job, or return the one already running."""

    async def release(self, action: str, app_id: str, job_id: str) -> None:
        """Drop the claim if `job_id` still holds it."""

    async def forget(self, action: str, app_id: str) -> None:
        """The app's running `action` job was superseded: the next request starts anew."""

    async def set_status(self, action: str, job_id: str, status: str, error: str = "") -> None: ...

    async def get_status(self, action: str, job_id: str) -> JobStatus | None: ...

    async def renew(self, action: str, app_id: str, job_id: str) -> None:
        """A running job is alive: keep its lease and its claim."""


def _job_key(action: str, job_id: str) -> str:
    return f"{action}_app_annotation_job_{job_id}"


def _error_key(action: str, job_id: str) -> str:
    return f"{action}_app_annotation_error_{job_id}"


def _lease_key(action: str, job_id: str) -> str:
    return f"kiln:{action}_app_annotation_job_lease_{job_id}"


def _claim_key(action: str, app_id: str) -> str:
    return f"{action}_app_annotation_{app_id}"


def _ttl(status: str) -> int:
    return FINISHED_TTL if status in (COMPLETED, ERROR) else RUNNING_TTL


class InProcessAnnotationJobs:
    def __init__(self) -> None:
        self._jobs: dict[str, tuple[JobStatus, float]] = {}
        self._claims: dict[str, str] = {}

    async def claim(self, action: str, app_id: str, job_id: str) -> str | None:
        current = self._claims.setdefault(_claim_key(action, app_id), job_id)
        return None if current == job_id else current

    async def release(self, action: str, app_id: str, job_id: str) -> None:
        key = _claim_key(action, app_id)
        if self._claims.get(key) == job_id:
            del self._claims[key]

    async def forget(self, action: str, app_id: str) -> None:
        self._claims.pop(_claim_key(action, app_id), None)

    async def set_status(self, action: str, job_id: str, status: str, error: str = "") -> None:
        now = time.monotonic()
        self._jobs = {k: v for k, v in self._jobs.items() if v[1] > now}
        self._jobs[_job_key(action, job_id)] = (JobStatus(status, error), now + _ttl(status))

    async def get_status(self, action: str, job_id: str) -> JobStatus | None:
        entry = self._jobs.get(_job_key(action, job_id))
        if entry is None or entry[1] <= time.monotonic():
            return None
        return entry[0]

    async def renew(self, action: str, app_id: str, job_id: str) -> None:
        return None  # nothing outlives this process, so nothing can lapse


# Compare-and-act: only the job holding the claim may renew or release it.
_RENEW_CLAIM = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE_CLAIM = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
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


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


class RedisAnnotationJobs:
    def __init__(self, redis: Redis, lease_ttl: int) -> None:
        self._redis = redis
        self._lease_ttl = lease_ttl

    async def claim(self, action: str, app_id: str, job_id: str) -> str | None:
        key = _claim_key(action, app_id)
        for _ in range(3):  # the holder may expire between SET NX and GET
            if await self._redis.set(key, job_id, nx=True, ex=self._lease_ttl):
                return None
            raw = await self._redis.get(key)
            if raw is not None:
                return _text(raw)
        await self._redis.set(key, job_id, ex=self._lease_ttl)  # holders keep vanishing
        return None

    async def release(self, action: str, app_id: str, job_id: str) -> None:
        await self._redis.eval(_RELEASE_CLAIM, 1, _claim_key(action, app_id), job_id)

    async def forget(self, action: str, app_id: str) -> None:
        await self._redis.delete(_claim_key(action, app_id))

    async def set_status(self, action: str, job_id: str, status: str, error: str = "") -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(_job_key(action, job_id), status, ex=_ttl(status))
            if status == ERROR:
                pipe.set(_error_key(action, job_id), error, ex=_ttl(status))
            if status in (WAITING, PROCESSING):
                pipe.set(_lease_key(action, job_id), 1, ex=self._lease_ttl)
            await pipe.execute()

    async def get_status(self, action: str, job_id: str) -> JobStatus | None:
        redis = self._redis
        raw = await redis.get(_job_key(action, job_id))
        if raw is None:
            return None
        status = _text(raw)
        if status in (WAITING, PROCESSING) and not await redis.exists(_lease_key(action, job_id)):
            keys = [_job_key(action, job_id), _error_key(action, job_id)]
            keys.append(_lease_key(action, job_id))
            status = _text(await redis.eval(_MARK_INTERRUPTED, 3, *keys, INTERRUPTED, FINISHED_TTL))
            if not status:
                return None
        error = ""
        if status == ERROR:
            raw_error = await redis.get(_error_key(action, job_id))
            if raw_error is not None:
                error = _text(raw_error)
        return JobStatus(status, error)

    async def renew(self, action: str, app_id: str, job_id: str) -> None:
        await self._redis.set(_lease_key(action, job_id), 1, ex=self._lease_ttl)
        await self._redis.eval(_RENEW_CLAIM, 1, _claim_key(action, app_id), job_id, self._lease_ttl)
