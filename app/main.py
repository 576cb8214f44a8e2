"""The FastAPI application: lifespan wiring, error handlers, routers."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api.body_guard import BodyGuard
from app.api.errors import install_error_handlers
from app.api.middleware import DifyCors, HeadAsGet
from app.api.router import root
from app.core.config import get_settings
from app.core.db import dispose_engine
from app.runtime import build_runtime
from app.services.apps.auth import forget_app
from app.services.generation.reaper import reap_orphans
from app.services.generation.upkeep import start_upkeep, stop_upkeep
from app.services.triggers.scheduler import start_scheduler
from app.services.workflows.as_tool import install_workflow_tools
from app.services.workflows.reaper import reap_orphan_runs

logger = logging.getLogger("kiln")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    runtime = await build_runtime(settings)
    app.state.runtime = runtime
    install_workflow_tools(runtime)  # workflow-as-tool for graph and agent-chat apps alike
    await reap_orphans(runtime.heartbeat)
    await reap_orphan_runs(runtime.heartbeat)
    # A change to an app (an update, a revoked key) drops what this replica cached of it.
    await runtime.app_changes.start(forget_app)
    upkeep = start_upkeep(runtime)
    scheduler = start_scheduler(runtime)  # schedule triggers (off with KILN_SCHEDULER_ENABLED)
    try:
        yield
    finally:
        if scheduler is not None:  # no run starts once the exit began
            runtime.begin_shutdown()
            await scheduler.stop()
        # Upkeep (answer saves, heartbeats, the reaper) goes on while streams drain.
        await runtime.drain()
        await stop_upkeep(upkeep)
        await runtime.close()
        await dispose_engine()


def create_app() -> FastAPI:
    # Werkzeug's strict slashes: `/v1/info/` is a 404, not a redirect.
    app = FastAPI(
        title="Kiln", version="0.1.0", lifespan=lifespan, docs_url="/docs", redirect_slashes=False
    )
    install_error_handlers(app)
    app.include_router(root)
    app.add_middleware(BodyGuard)  # inside CORS: a 413 carries the CORS headers too
    app.add_middleware(DifyCors)
    app.add_middleware(HeadAsGet)
    return app
