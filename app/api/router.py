"""Mounts every area's router: the Service API under /v1, probes at the root."""

from fastapi import APIRouter

from app.api.routes import app_info, chat, completion, conversations, health, index

service_api = APIRouter(prefix="/v1")
for module in (index, chat, completion, conversations, app_info):
    service_api.include_router(module.router)

root = APIRouter()
root.include_router(health.router)
root.include_router(service_api)
