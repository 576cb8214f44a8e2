"""`GET /v1/info`, `/parameters`, `/meta`, `/site`."""

from typing import Any

from fastapi import APIRouter

from app.api.deps import AppDep, RuntimeDep
from app.services.apps import info as app_info

router = APIRouter(tags=["app"])


@router.get("/info")
async def get_info(app: AppDep) -> dict[str, Any]:
    return app_info.info(app)


@router.get("/parameters")
async def get_parameters(app: AppDep, runtime: RuntimeDep) -> dict[str, Any]:
    return await app_info.parameters(app, runtime.settings)


@router.get("/meta")
async def get_meta(app: AppDep, runtime: RuntimeDep) -> dict[str, Any]:
    return app_info.meta(app, runtime.settings)


@router.get("/site")
async def get_site(app: AppDep) -> dict[str, Any]:
    return app_info.site(app)
