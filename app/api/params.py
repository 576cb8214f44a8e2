"""Request pieces the conversation, message and end-user routers share: UUID path ids
(Dify's `<uuid:...>` converters: a malformed id misses the route, a plain 404), an
optional JSON body, and the chat-family mode check."""

import re
from typing import Any

from fastapi import Request

from app.api.body import read_json
from app.core.errors import NotChatApp, NotFound
from app.models import App

CHAT_FAMILY = ("chat", "agent-chat", "advanced-chat")


# Werkzeug's UUIDConverter: the hyphenated 8-4-4-4-12 form only.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def path_uuid(value: str) -> str:
    if not _UUID.fullmatch(value):
        raise NotFound()
    return value.lower()


async def optional_json(request: Request) -> dict[str, Any]:
    """No body at all reads as `{}`; a body must be a JSON object as everywhere else."""
    if not (await request.body()).strip():
        return {}
    return await read_json(request)


def user_of(data: dict[str, Any]) -> str | None:
    user = data.get("user")
    return None if user is None or user == "" else str(user)


def check_chat_family(app: App) -> None:
    if app.mode not in CHAT_FAMILY:
        raise NotChatApp()
