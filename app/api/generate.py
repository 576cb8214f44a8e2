"""What the chat and completion routers share: read the body in Dify's order (user, app
mode, then the payload), start the generation, answer blocking or streaming; and stop."""

from fastapi import Request
from starlette.responses import Response

from app.api.body import parse_model, read_json, required_user
from app.api.streaming import respond
from app.core.app_mode import AppMode
from app.models import App
from app.runtime import Runtime
from app.schemas.chat import ChatRequestPayload, CompletionRequestPayload
from app.services.generation import stop as stop_requests
from app.services.generation.start import GenerateCommand, check_mode, start_generation
from app.services.workflows.chatflow import start_chatflow


async def generate(request: Request, app: App, runtime: Runtime, kind: str) -> Response:
    data = await read_json(request)
    user = required_user(data)
    check_mode(app, kind)
    if kind == "chat":
        chat = parse_model(ChatRequestPayload, data)
        payload: ChatRequestPayload | CompletionRequestPayload = chat
        conversation_id = chat.conversation_id
        auto_generate_name = chat.auto_generate_name
        workflow_id = chat.workflow_id
    else:
        payload = parse_model(CompletionRequestPayload, data)
        conversation_id = None
        auto_generate_name = False  # Dify forces it off for completion apps
        workflow_id = None
    command = GenerateCommand(
        kind=kind,
        inputs=payload.inputs,
        query=payload.query,
        user=user,
        streaming=payload.streaming,
        conversation_id=conversation_id,
        auto_generate_name=auto_generate_name,
        files=payload.files,
        workflow_id=workflow_id,
    )
    if app.app_mode is AppMode.ADVANCED_CHAT:
        generation = await start_chatflow(runtime, app, command)
    else:
        generation = await start_generation(runtime, app, command)
    return await respond(generation, payload.streaming, runtime.settings)


async def stop(request: Request, app: App, runtime: Runtime, kind: str, task_id: str) -> None:
    user = required_user(await read_json(request))
    check_mode(app, kind)
    await stop_requests.stop(runtime, app.id, task_id, user)
