"""`POST /v1/completion-messages` and its stop endpoint."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api.deps import AppDep, RuntimeDep
from app.api.generate import generate, stop

router = APIRouter(tags=["completion"])


@router.post("/completion-messages")
async def create_completion_message(request: Request, app: AppDep, runtime: RuntimeDep) -> Response:
    return await generate(request, app, runtime, "completion")


@router.post("/completion-messages/{task_id}/stop")
async def stop_completion_message(
    task_id: str, request: Request, app: AppDep, runtime: RuntimeDep
) -> dict[str, str]:
    await stop(request, app, runtime, "completion", task_id)
    return {"result": "success"}
