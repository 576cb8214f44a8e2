"""Concurrent calls for one key share one running call: a burst of requests that all miss
a cache costs one lookup, not one per request."""

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from functools import partial
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    def __init__(self) -> None:
        self._running: dict[K, asyncio.Future[V]] = {}

    async def run(self, key: K, call: Callable[[], Awaitable[V]]) -> V:
        """The result of `call()`, or of the call already running for `key`. A caller
        that is cancelled does not cancel the shared call for the others."""
        running = self._running.get(key)
        if running is None:
            running = asyncio.ensure_future(call())
            self._running[key] = running
            running.add_done_callback(partial(self._done, key))
        return await asyncio.shield(running)

    def _done(self, key: K, finished: asyncio.Future[V]) -> None:
        if self._running.get(key) is finished:
            del self._running[key]
        if not finished.cancelled():
            finished.exception()  # retrieved, even when every caller has gone
