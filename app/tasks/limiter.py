"""Per-app limit on active requests (Dify's APP_MAX_ACTIVE_REQUESTS)."""

import time
from typing import Protocol

from redis.asyncio import Redis

ENTRY_TTL_SECONDS = 600  # a slot whose holder vanished frees itself after this

# Drop expired entries, then take a slot only if one is free: atomically.
_ACQUIRE = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local entries = redis.call('HGETALL', key)
for i = 1, #entries, 2 do
  if now - tonumber(entries[i + 1]) > ttl then redis.call('HDEL', key, entries[i]) end
end
if redis.call('HLEN', key) >= limit then return 0 end
redis.call('HSET', key, ARGV[4], now)
redis.call('EXPIRE', key, ttl)
return 1
"""


class ActiveRequestLimiter(Protocol):
    async def acquire(self, app_id: str, request_id: str, limit: int) -> bool: ...
    async def release(self, app_id: str, request_id: str) -> None: ...


class InProcessLimiter:
    def __init__(self) -> None:
        self._active: dict[str, set[str]] = {}

    async def acquire(self, app_id: str, request_id: str, limit: int) -> bool:
        active = self._active.setdefault(app_id, set())
        if len(active) >= limit:
            return False
        active.add(request_id)
        return True

    async def release(self, app_id: str, request_id: str) -> None:
        self._active.get(app_id, set()).discard(request_id)


class RedisLimiter:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._acquire = redis.register_script(_ACQUIRE)

    @staticmethod
    def _key(app_id: str) -> str:
        return f"kiln:rate_limit:{app_id}:active_requests"

    async def acquire(self, app_id: str, request_id: str, limit: int) -> bool:
        args: list[str | int | float] = [time.time(), ENTRY_TTL_SECONDS, limit, request_id]
        return bool(await self._acquire(keys=[self._key(app_id)], args=args))

    async def release(self, app_id: str, request_id: str) -> None:
        await self._redis.hdel(self._key(app_id), request_id)
