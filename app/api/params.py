"""Request pieces the routers share: an optional JSON body and the chat-family mode check."""

from typing import Any

from fastapi import Request

from app.api.body import read_json
from app.core.errors import NotChatApp
from app.models import App


async def optional_json(request: Request) -> dict[str, Any]:
    """No body at all reads as `{}`; a body must be a JSON object as everywhere else."""
    if not (await request.body()).strip():
        return {}
    return await read_json(request)


def check_chat_family(app: App) -> None:
    if not app.app_mode.is_chat_family:
        raise NotChatApp()
