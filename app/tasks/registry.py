"""In-flight generations and stop requests.

The in-process registry serves one process. The Redis registry records each task's owner
in Redis (Dify's `generate_task_belong` key) and delivers stop requests over pub/sub,
so a stop sent to any replica reaches the replica running the stream.
"""

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

from redis.asyncio import Redis

logger = logging.getLogger("kiln.tasks")

STOP_CHANNEL = "kiln:task-stop"


def _belong_key(task_id: str) -> str:
    return f"kiln:generate_task_belong:{task_id}"


def _stopped_key(task_id: str) -> str:
    return f"kiln:generate_task_stopped:{task_id}"


@dataclass(slots=True)
class TaskHandle:
    task_id: str
    owner: str
    stop_requested: asyncio.Event = field(default_factory=asyncio.Event)
    started: float = field(default_factory=time.monotonic)


class TaskRegistry(Protocol):
    worker_id: str

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def register(self, task_id: str, owner: str) -> TaskHandle: ...
    async def unregister(self, task_id: str) -> None: ...
    async def request_stop(self, task_id: str, owner: str) -> bool: ...
    def local_tasks(self) -> list[TaskHandle]: ...


class InProcessRegistry:
    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        self._tasks: dict[str, TaskHandle] = {}

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._tasks.clear()

    async def register(self, task_id: str, owner: str) -> TaskHandle:
        handle = TaskHandle(task_id, owner)
        self._tasks[task_id] = handle
        return handle

    async def unregister(self, task_id: str) -> None:
        self._tasks.pop(task_id, None)

    async def request_stop(self, task_id: str, owner: str) -> bool:
        handle = self._tasks.get(task_id)
        if handle is None or handle.owner != owner:
            return False
        handle.stop_requested.set()
        return True

    def local_tasks(self) -> list[TaskHandle]:
        return list(self._tasks.values())


class RedisRegistry:
    POLL_SECONDS = 1.0

    def __init__(self, redis: Redis, worker_id: str, task_ttl: int, stop_ttl: int) -> None:
        self.worker_id = worker_id
        self._redis = redis
        self._task_ttl = task_ttl
        self._stop_ttl = stop_ttl
        self._tasks: dict[str, TaskHandle] = {}
        self._background: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._background = [
            asyncio.create_task(self._listen(), name="kiln-stop-listener"),
            asyncio.create_task(self._poll(), name="kiln-stop-poller"),
        ]

    async def close(self) -> None:
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def register(self, task_id: str, owner: str) -> TaskHandle:
        handle = TaskHandle(task_id, owner)
        self._tasks[task_id] = handle
        await self._redis.set(_belong_key(task_id), owner, ex=self._task_ttl)
        return handle

    async def unregister(self, task_id: str) -> None:
        self._tasks.pop(task_id, None)
        with contextlib.suppress(Exception):
            await self._redis.delete(_belong_key(task_id), _stopped_key(task_id))

    async def request_stop(self, task_id: str, owner: str) -> bool:
        current = await self._redis.get(_belong_key(task_id))
        if (
            current is None
            or (current.decode() if isinstance(current, bytes) else current) != owner
        ):
            return False
        await self._redis.set(_stopped_key(task_id), "1", ex=self._stop_ttl)
        await self._redis.publish(STOP_CHANNEL, task_id)
        return True

    def local_tasks(self) -> list[TaskHandle]:
        return list(self._tasks.values())

    def _mark_stopped(self, task_id: str) -> None:
        handle = self._tasks.get(task_id)
        if handle is not None:
            handle.stop_requested.set()

    async def _listen(self) -> None:
        """Pub/sub delivers stops at once; reconnect with backoff if Redis drops."""
        backoff = 1.0
        while True:
            try:
                pubsub = self._redis.pubsub()
                await pubsub.subscribe(STOP_CHANNEL)
                backoff = 1.0
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self._mark_stopped(message["data"].decode())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("stop listener lost Redis (%s); retrying", type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    async def _poll(self) -> None:
        """Backstop for a stop published while this replica was not subscribed."""
        while True:
            await asyncio.sleep(self.POLL_SECONDS)
            task_ids = [t for t, h in self._tasks.items() if not h.stop_requested.is_set()]
            if not task_ids:
                continue
            try:
                flags = await self._redis.mget([_stopped_key(t) for t in task_ids])
            except Exception:
                continue
            for task_id, flag in zip(task_ids, flags, strict=True):
                if flag is not None:
                    self._mark_stopped(task_id)
