"""`POST /v1/completion-messages` and its stop endpoint."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api.body import parse_model, read_json, required_user
from app.api.deps import AppDep, RuntimeDep
from app.api.streaming import respond
from app.schemas.chat import CompletionRequestPayload
from app.services import tasks
from app.services.generation import GenerateCommand, check_mode, start_generation

router = APIRouter(tags=["completion"])


@router.post("/completion-messages")
async def create_completion_message(request: Request, app: AppDep, runtime: RuntimeDep) -> Response:
    data = await read_json(request)
    user = required_user(data)
    check_mode(app, "completion")
    payload = parse_model(CompletionRequestPayload, data)
    command = GenerateCommand(
        kind="completion",
        inputs=payload.inputs,
        query=payload.query,
        user=user,
        streaming=payload.streaming,
    )
    generation = await start_generation(runtime, app, command)
    return await respond(generation, payload.streaming, runtime.settings)


@router.post("/completion-messages/{task_id}/stop")
async def stop_completion_message(
    task_id: str, request: Request, app: AppDep, runtime: RuntimeDep
) -> dict[str, str]:
    user = required_user(await read_json(request))
    check_mode(app, "completion")
    await tasks.stop(runtime, app.id, task_id, user)
    return {"result": "success"}
