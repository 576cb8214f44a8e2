"""`GET /v1/conversations` and `GET /v1/messages` (chat-family apps only)."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from app.api.deps import AppDep
from app.core.errors import InvalidParam
from app.schemas.common import optional_uuid
from app.schemas.conversation import ConversationPage, MessagePage
from app.services import conversations, messages
from app.services.generation import check_mode

router = APIRouter(tags=["conversations"])

SortBy = Literal["created_at", "-created_at", "updated_at", "-updated_at"]
Limit = Annotated[int, Query(ge=1, le=100)]


def _uuid_or_none(value: str | None, name: str) -> str | None:
    try:
        return optional_uuid(value, name)
    except ValueError as exc:
        raise InvalidParam(str(exc)) from None


@router.get("/conversations")
async def list_conversations(
    app: AppDep,
    user: str | None = None,
    last_id: str | None = None,
    limit: Limit = 20,
    sort_by: SortBy = "-updated_at",
) -> ConversationPage:
    check_mode(app, "chat")
    cursor = _uuid_or_none(last_id, "last_id")
    return await conversations.list_page(app.id, user, cursor, limit, sort_by)


@router.get("/messages")
async def list_messages(
    app: AppDep,
    conversation_id: str,
    user: str | None = None,
    first_id: str | None = None,
    limit: Limit = 20,
) -> MessagePage:
    check_mode(app, "chat")
    conversation = _uuid_or_none(conversation_id, "conversation_id")
    cursor = _uuid_or_none(first_id, "first_id")
    return await messages.list_page(app.id, user, conversation or "", cursor, limit)
