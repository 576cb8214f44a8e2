"""What every running part of one generation shares: the model gateway, where its events
go, the stop signal and the deadline. Classic runs and workflow nodes take the same one."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

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
