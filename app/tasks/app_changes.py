"""Telling every replica that an app changed (its DSL, its versions, its keys), so each
drops what it cached of it at once: Redis pub/sub when configured, else nothing to tell
(one process, and caches short enough for a change made from the command line)."""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis

logger = logging.getLogger("kiln.app_changes")

CHANNEL = "kiln:app_changes"
ALL_APPS = "*"


class AppChanges(Protocol):
    async def publish(self, app_id: str) -> None: ...

    async def start(self, on_change: Callable[[str | None], None]) -> None:
        """Call `on_change(app_id)` (None: every app) for every change announced."""

    async def close(self) -> None: ...


class LocalAppChanges:
    def __init__(self) -> None:
        self._on_change: Callable[[str | None], None] | None = None

    async def publish(self, app_id: str) -> None:
        if self._on_change is not None:
            self._on_change(None if app_id == ALL_APPS else app_id)

    async def start(self, on_change: Callable[[str | None], None]) -> None:
        self._on_change = on_change

    async def close(self) -> None:
        self._on_change = None


class RedisAppChanges:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._task: asyncio.Task[None] | None = None

    async def publish(self, app_id: str) -> None:
        await self._redis.publish(CHANNEL, app_id)

    async def start(self, on_change: Callable[[str | None], None]) -> None:
        self._task = asyncio.create_task(self._listen(on_change), name="kiln-app-changes")

    async def _listen(self, on_change: Callable[[str | None], None]) -> None:
        """Reconnect with backoff if Redis drops; after a gap, forget everything (a change
        may have been announced meanwhile)."""
        backoff = 1.0
        while True:
            try:
                pubsub = self._redis.pubsub()
                await pubsub.subscribe(CHANNEL)
                backoff = 1.0
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    raw = message["data"]
                    app_id = raw.decode() if isinstance(raw, bytes) else str(raw)
                    on_change(None if app_id == ALL_APPS else app_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("app change listener lost Redis (%s); retrying", type(exc).__name__)
                on_change(None)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
