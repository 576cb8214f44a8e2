"""`GET /v1/`: Dify's welcome payload (no auth)."""

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from app.api.deps import RuntimeDep

router = APIRouter(tags=["index"])
bare_prefix = APIRouter()  # mounted at the root: `/v1` itself


@bare_prefix.get("/v1", include_in_schema=False)
async def to_welcome() -> RedirectResponse:
    # Werkzeug redirects a rule's slash-less form (`/v1` -> `/v1/`) even with strict slashes.
    return RedirectResponse("/v1/", status_code=308)


@router.get("/")
async def welcome(runtime: RuntimeDep) -> dict[str, str]:
    return {
        "welcome": "Dify OpenAPI",
        "api_version": "v1",
        "server_version": runtime.settings.server_version,
    }
