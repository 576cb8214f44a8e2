"""uvicorn wiring: on SIGTERM, readiness turns 503 first, then streams drain."""

from typing import Any

import uvicorn
from fastapi import FastAPI

from app.accept_loop import LOOP
from app.core.config import get_settings
from app.main import create_app


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self._app = app

    def handle_exit(self, sig: int, frame: Any) -> None:
        runtime = getattr(self._app.state, "runtime", None)
        if runtime is not None:
            runtime.draining = True
        super().handle_exit(sig, frame)


def serve(host: str, port: int) -> None:
    settings = get_settings()
    app = create_app()
    config = uvicorn.Config(
        app,
        loop=LOOP,  # uvloop, accepting new connections in batches (app/accept_loop.py)
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=int(settings.shutdown_grace_period) + 5,
    )
    DrainingServer(config, app).run()
