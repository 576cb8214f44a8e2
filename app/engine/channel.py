"""Hands events from a running generation to whoever listens, if anyone still does."""

import asyncio
from collections.abc import AsyncIterator

from app.engine.events import Event, sse_frame

_END = object()


class EventChannel:
    """Unbounded queue: the producer never waits on a slow or vanished client."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._detached = False

    @classmethod
    def unheard(cls) -> "EventChannel":
        """A channel for a run no request listens to (resumed or triggered): events are
        dropped, not buffered."""
        channel = cls()
        channel.detach()
        return channel

    def emit(self, event: Event) -> None:
        if not self._detached:
            self._queue.put_nowait(event)

    def close(self) -> None:
        if not self._detached:
            self._queue.put_nowait(_END)

    def detach(self) -> None:
        """The listener left: drop further events instead of buffering them."""
        self._detached = True
        while not self._queue.empty():
            self._queue.get_nowait()

    async def events(self) -> AsyncIterator[Event]:
        while True:
            item = await self._queue.get()
            if item is _END:
                return
            assert isinstance(item, dict)
            yield item

    async def sse_frames(self) -> AsyncIterator[bytes]:
        """The events as SSE frames; a listener that leaves detaches the channel."""
        try:
            async for event in self.events():
                yield sse_frame(event)
        finally:
            self.detach()
