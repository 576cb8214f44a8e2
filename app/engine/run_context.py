"""What every running part of one generation shares: the model gateway, where its events
go, the stop signal and the deadline. Classic runs and workflow nodes take the same one."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.engine.events import Event
from app.gateway.gateway import ModelGateway


@dataclass(slots=True)
class RunContext:
    gateway: ModelGateway
    emit: Callable[[Event], None]
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    deadline: float = float("inf")  # time.monotonic() at which the run is stopped

    @classmethod
    def lasting(
        cls,
        gateway: ModelGateway,
        emit: Callable[[Event], None],
        stop: asyncio.Event,
        max_seconds: float,
    ) -> "RunContext":
        return cls(gateway, emit, stop, time.monotonic() + max_seconds)

    def remaining(self) -> float:
        """Seconds left before the deadline (never negative)."""
        return max(self.deadline - time.monotonic(), 0.0)

    async def finishes(self, work: "asyncio.Future[Any]", *also: asyncio.Event) -> bool:
        """Wait for `work` until it ends, the run is stopped, the deadline passes or one of
        `also` is set. True when it ended; otherwise it is cancelled (the caller awaits it)."""
        waits: set[asyncio.Future[Any]] = {work, asyncio.ensure_future(self.stop.wait())}
        waits |= {asyncio.ensure_future(event.wait()) for event in also}
        try:
            done, _ = await asyncio.wait(
                waits, timeout=self.remaining(), return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiter in waits - {work}:
                waiter.cancel()
        if work in done:
            return True
        work.cancel()
        return False
