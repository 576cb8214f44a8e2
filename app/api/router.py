"""Mounts every area's router: the Service API under /v1, probes, signed files and webhook
triggers at the root."""

from fastapi import APIRouter

from app.api.routes import (
    annotations,
    app_info,
    audio,
    chat,
    completion,
    conversations,
    end_users,
    files,
    health,
    human_input,
    index,
    messages,
    signed_files,
    triggers,
    workflows,
)

service_api = APIRouter(prefix="/v1")
for module in (
    index,
    chat,
    completion,
    workflows,
    human_input,
    conversations,
    messages,
    end_users,
    files,
    audio,
    app_info,
):
    service_api.include_router(module.router)
service_api.include_router(annotations.router)

root = APIRouter()
root.include_router(health.router)
root.include_router(signed_files.router)
root.include_router(triggers.router)
root.include_router(service_api)
root.include_router(index.bare_prefix)
