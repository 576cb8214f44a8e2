"""Which annotation-reply job is running for an app, where every replica sees it.

While a job runs, `{action}_app_annotation_{app_id}` names it (Dify's key), so a second
request for the same action gets the running job back. In Redis the claim expires unless
its job renews it (`renew`), so a dead process's claim lapses; in-process it is a dict."""

from redis.asyncio import Redis

from app.runtime import Runtime

_local: dict[str, str] = {}  # in-process: claim key -> job id

# Compare-and-act: only the job holding the claim may renew or release it.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _key(action: str, app_id: str) -> str:
    return f"{action}_app_annotation_{app_id}"


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


async def claim(runtime: Runtime, action: str, app_id: str, job_id: str) -> str | None:
    """Make `job_id` the app's running `action` job, or return the one already running."""
    key = _key(action, app_id)
    redis: Redis | None = runtime.redis
    if redis is None:
        current = _local.setdefault(key, job_id)
        return None if current == job_id else current
    ttl = runtime.settings.annotation_job_lease_ttl
    for _ in range(3):  # the holder may expire between SET NX and GET
        if await redis.set(key, job_id, nx=True, ex=ttl):
            return None
        raw = await redis.get(key)
        if raw is not None:
            return _text(raw)
    await redis.set(key, job_id, ex=ttl)  # holders keep vanishing: take the claim
    return None


async def renew(runtime: Runtime, action: str, app_id: str, job_id: str) -> None:
    if runtime.redis is not None:
        ttl = runtime.settings.annotation_job_lease_ttl
        await runtime.redis.eval(_RENEW, 1, _key(action, app_id), job_id, ttl)


async def release(runtime: Runtime, action: str, app_id: str, job_id: str) -> None:
    key = _key(action, app_id)
    if runtime.redis is None:
        if _local.get(key) == job_id:
            del _local[key]
        return
    await runtime.redis.eval(_RELEASE, 1, key, job_id)


async def forget(runtime: Runtime, action: str, app_id: str) -> None:
    """The app's running `action` job was superseded: the next request starts anew."""
    key = _key(action, app_id)
    if runtime.redis is None:
        _local.pop(key, None)
    else:
        await runtime.redis.delete(key)
