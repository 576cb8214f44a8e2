"""`POST /v1/chat-messages` and its stop endpoint."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api.deps import AppDep, RuntimeDep
from app.api.generate import generate, stop

router = APIRouter(tags=["chat"])


@router.post("/chat-messages")
async def create_chat_message(request: Request, app: AppDep, runtime: RuntimeDep) -> Response:
    return await generate(request, app, runtime, "chat")


@router.post("/chat-messages/{task_id}/stop")
async def stop_chat_message(
    task_id: str, request: Request, app: AppDep, runtime: RuntimeDep
) -> dict[str, str]:
    await stop(request, app, runtime, "chat", task_id)
    return {"result": "success"}
