"""Kubernetes probes: liveness touches nothing; readiness checks the database and Redis."""

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.api.deps import RuntimeDep
from app.core.db import get_read_engine

router = APIRouter(tags=["health"])
PROBE_TIMEOUT = 2.0


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


async def _database_ok() -> bool:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            async with get_read_engine().connect() as connection:
                await connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


@router.get("/ready")
async def ready(runtime: RuntimeDep) -> JSONResponse:
    checks = {"database": await _database_ok()}
    if runtime.redis is not None:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                checks["redis"] = bool(await runtime.redis.ping())
        except Exception:
            checks["redis"] = False
    ok = all(checks.values()) and not runtime.draining
    body = {"status": "ok" if ok else "unavailable", "draining": runtime.draining, **checks}
    return JSONResponse(body, status_code=200 if ok else 503)
