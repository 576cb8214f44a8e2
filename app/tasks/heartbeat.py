"""Worker heartbeats: every serving process renews a sign of life each interval, so the
reaper can tell a message a live process is generating from one a dead process left.

With Redis the sign is a key that expires `timeout` seconds after its last renewal;
without Redis it is a row of `worker_heartbeats` carrying the time of the last renewal
(the processes' clocks must agree to well within the timeout, as NTP keeps them)."""

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Protocol

from redis.asyncio import Redis
from sqlmodel import col, delete, select, update

from app.core.db import rows_changed, session_scope
from app.models import WorkerHeartbeat as HeartbeatRow
from app.models.base import utcnow

logger = logging.getLogger("kiln.heartbeat")


def _key(worker_id: str) -> str:
    return f"kiln:instance:{worker_id}"


class WorkerHeartbeat(Protocol):
    worker_id: str

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def live_workers(self, worker_ids: set[str]) -> set[str]: ...


class _Beating:
    """The renewal loop both stores share; a store supplies `_beat`, `_alive`, `_forget`."""

    def __init__(self, worker_id: str, interval: float, timeout: float) -> None:
        self.worker_id = worker_id
        self.interval = interval
        self.timeout = timeout
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._renew()  # alive before the first request is served
        self._task = asyncio.create_task(self._run(), name="kiln-heartbeat")

    async def close(self) -> None:
        """Stop renewing and withdraw the sign of life: whatever this process leaves
        running is reaped at once instead of after the timeout."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self._forget()

    async def live_workers(self, worker_ids: set[str]) -> set[str]:
        others = worker_ids - {self.worker_id}
        alive = await self._alive(others) if others else set()
        return alive | (worker_ids & {self.worker_id})

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self._renew()

    async def _renew(self) -> None:
        try:
            await self._beat()
        except Exception as exc:  # the store is down: the next beat retries
            logger.warning("heartbeat failed (%s: %s)", type(exc).__name__, exc)

    async def _beat(self) -> None:
        raise NotImplementedError

    async def _alive(self, worker_ids: set[str]) -> set[str]:
        raise NotImplementedError

    async def _forget(self) -> None:
        raise NotImplementedError


class RedisHeartbeat(_Beating):
    def __init__(self, redis: Redis, worker_id: str, interval: float, timeout: float) -> None:
        super().__init__(worker_id, interval, timeout)
        self._redis = redis

    async def _beat(self) -> None:
        await self._redis.set(_key(self.worker_id), "1", px=max(int(self.timeout * 1000), 1))

    async def _alive(self, worker_ids: set[str]) -> set[str]:
        ordered = sorted(worker_ids)
        found = await self._redis.mget([_key(w) for w in ordered])
        return {w for w, value in zip(ordered, found, strict=True) if value is not None}

    async def _forget(self) -> None:
        await self._redis.delete(_key(self.worker_id))


class DatabaseHeartbeat(_Beating):
    async def _beat(self) -> None:
        now = utcnow()
        async with session_scope() as session:
            renewed = await session.exec(
                update(HeartbeatRow)
                .where(col(HeartbeatRow.worker_id) == self.worker_id)
                .values(beat_at=now)
            )
            if not rows_changed(renewed):
                session.add(HeartbeatRow(worker_id=self.worker_id, beat_at=now))
            # Rows past the timeout belong to dead processes: a missing row reads the same.
            await session.exec(
                delete(HeartbeatRow).where(col(HeartbeatRow.beat_at) < self._cutoff())
            )

    async def _alive(self, worker_ids: set[str]) -> set[str]:
        async with session_scope() as session:
            rows = await session.exec(
                select(HeartbeatRow.worker_id).where(
                    col(HeartbeatRow.worker_id).in_(worker_ids),
                    col(HeartbeatRow.beat_at) >= self._cutoff(),
                )
            )
            return set(rows.all())

    async def _forget(self) -> None:
        async with session_scope() as session:
            await session.exec(
                delete(HeartbeatRow).where(col(HeartbeatRow.worker_id) == self.worker_id)
            )

    def _cutoff(self) -> datetime:
        return utcnow() - timedelta(seconds=self.timeout)
