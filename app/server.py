"""uvicorn wiring for a graceful exit bounded by KILN_SHUTDOWN_GRACE_PERIOD.

uvicorn closes its listener as soon as it sees a signal and runs the lifespan shutdown
only after the open connections have ended. So the drain starts in the signal handler:
readiness answers 503 at once, the listener keeps accepting for KILN_SHUTDOWN_READY_DELAY
(load balancers stop routing first), and the runtime's shutdown plan (app/runtime.py)
stops the generations in time for their streams to end, with `message_end`, within the
grace period. A watchdog ends the process if anything overruns it.

SIGINT (Ctrl-C) skips the ready delay; a second signal closes the listener at once; a
second Ctrl-C then forces the exit, as in uvicorn."""

import asyncio
import logging
import os
import signal
import socket
import threading
import time
from types import FrameType

import uvicorn
from fastapi import FastAPI
from sse_starlette.sse import AppStatus

from app.accept_loop import LOOP
from app.core.config import get_settings
from app.main import create_app
from app.runtime import Runtime, ShutdownPlan

logger = logging.getLogger("kiln")


def _exit_by(deadline: float) -> None:
    """Watchdog thread: whatever still runs at the deadline, the process ends."""
    time.sleep(max(deadline - time.monotonic(), 0.0))
    logger.error("shutdown overran KILN_SHUTDOWN_GRACE_PERIOD: exiting now")
    os._exit(1)


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self._app = app
        self._loop: asyncio.AbstractEventLoop | None = None
        self._signalled = False
        self._closing: asyncio.TimerHandle | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        runtime: Runtime | None = getattr(self._app.state, "runtime", None)
        if runtime is None or self._loop is None or self._signalled:
            # Not serving yet, or a second signal: close the listener now.
            if self._closing is not None:
                self._closing.cancel()
                self._closing = None
            if runtime is not None and runtime.shutdown is not None:
                self._set_connection_timeout(runtime.shutdown, time.monotonic())
            super().handle_exit(sig, frame)
            return
        self._signalled = True
        runtime.draining = True  # readiness answers 503 from this instant
        self._loop.call_soon_threadsafe(self._begin_drain, runtime, sig, frame)

    def _begin_drain(self, runtime: Runtime, sig: int, frame: FrameType | None) -> None:
        plan = runtime.begin_shutdown()
        watchdog = threading.Thread(
            target=_exit_by, args=(plan.exit_deadline,), name="kiln-exit-watchdog", daemon=True
        )
        watchdog.start()
        self._set_connection_timeout(plan, plan.listener_close_at)
        delay = 0.0 if sig == signal.SIGINT else plan.listener_close_at - time.monotonic()
        assert self._loop is not None
        self._closing = self._loop.call_later(
            max(delay, 0.0), self._close_listener, plan, sig, frame
        )

    def _close_listener(self, plan: ShutdownPlan, sig: int, frame: FrameType | None) -> None:
        self._closing = None
        self._set_connection_timeout(plan, time.monotonic())
        super().handle_exit(sig, frame)

    def _set_connection_timeout(self, plan: ShutdownPlan, closing_at: float) -> None:
        # uvicorn waits this long (from the listener's closing) for open connections, then
        # cancels them; by then the runtime has ended every stream.
        timeout = max(plan.connections_deadline - closing_at, 0.0)
        self.config.timeout_graceful_shutdown = timeout  # type: ignore[assignment]


def serve(host: str, port: int) -> None:
    settings = get_settings()
    # sse-starlette would cancel every stream on the signal (or after its own grace):
    # the runtime ends them instead, each with its terminal event.
    AppStatus.disable_automatic_graceful_drain()
    app = create_app()
    config = uvicorn.Config(
        app,
        loop=LOOP,  # uvloop, accepting new connections in batches (app/accept_loop.py)
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=max(int(settings.shutdown_grace_period), 1),
    )
    DrainingServer(config, app).run()
