"""Conversations visible to one end user of one app, with Dify's cursor paging."""

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import session_scope
from app.core.errors import NotFound
from app.models import Conversation
from app.schemas.conversation import ConversationItem, ConversationPage
from app.services import end_users

SORT_FIELDS = ("created_at", "-created_at", "updated_at", "-updated_at")
SERVICE_API = "service-api"


def _owned(app_id: str, end_user_id: str) -> Any:
    return select(Conversation).where(
        Conversation.app_id == app_id,
        Conversation.from_end_user_id == end_user_id,
        Conversation.from_source == "api",
        col(Conversation.is_deleted).is_(False),
        (col(Conversation.invoke_from) == SERVICE_API) | col(Conversation.invoke_from).is_(None),
    )


async def get_owned(
    session: AsyncSession, app_id: str, end_user_id: str, conversation_id: str
) -> Conversation:
    statement = _owned(app_id, end_user_id).where(Conversation.id == conversation_id)
    conversation = (await session.exec(statement)).first()
    if conversation is None:
        raise NotFound("Conversation Not Exists.")
    return conversation


async def list_page(
    app_id: str, user: str | None, last_id: str | None, limit: int, sort_by: str
) -> ConversationPage:
    end_user = await end_users.find(app_id, user)
    if end_user is None:
        return ConversationPage(limit=limit, has_more=False, data=[])
    descending = sort_by.startswith("-")
    field = col(getattr(Conversation, sort_by.lstrip("-")))
    async with session_scope() as session:
        statement = _owned(app_id, end_user.id)
        if last_id:
            cursor = (await session.exec(statement.where(Conversation.id == last_id))).first()
            if cursor is None:
                raise NotFound("Last Conversation Not Exists.")
            value = getattr(cursor, sort_by.lstrip("-"))
            statement = statement.where(field < value if descending else field > value)
        order = field.desc() if descending else field.asc()
        rows = list((await session.exec(statement.order_by(order).limit(limit + 1))).all())
    has_more = len(rows) > limit
    return ConversationPage(
        limit=limit, has_more=has_more, data=[ConversationItem.of(r) for r in rows[:limit]]
    )
