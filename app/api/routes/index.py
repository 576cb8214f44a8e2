"""`GET /v1/`: Dify's welcome payload (no auth)."""

from fastapi import APIRouter

from app.api.deps import RuntimeDep

router = APIRouter(tags=["index"])


@router.get("/")
async def welcome(runtime: RuntimeDep) -> dict[str, str]:
    return {
        "welcome": "Dify OpenAPI",
        "api_version": "v1",
        "server_version": runtime.settings.server_version,
    }
