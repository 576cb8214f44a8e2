"""Conversations visible to one end user of one app: Dify's cursor paging, rename, delete."""

from typing import Any

from sqlalchemy import and_, delete, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import read_scope, session_scope
from app.core.errors import NotFound
from app.models import (
    Conversation,
    ConversationVariable,
    Message,
    MessageAgentThought,
    MessageFeedback,
    MessageFile,
)
from app.models.base import utcnow
from app.schemas.conversation import ConversationItem, ConversationPage
from app.services.end_users import lookup as end_users

SORT_FIELDS = ("created_at", "-created_at", "updated_at", "-updated_at")
SERVICE_API = "service-api"
NOT_EXISTS = "Conversation Not Exists."


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
        raise NotFound(NOT_EXISTS)
    return conversation


async def end_user_id_or_404(app_id: str, user: str | None) -> str:
    """The caller's end user; an unknown `user` owns nothing, so its ids look like 404."""
    end_user = await end_users.find(app_id, user)
    if end_user is None:
        raise NotFound(NOT_EXISTS)
    return end_user.id


def _beyond(cursor: Conversation, field_name: str, descending: bool) -> Any:
    """Rows strictly after the cursor in (sort field, id) order: Dify compares the sort
    field alone, which skips rows sharing the cursor's timestamp; the id breaks ties."""
    field = col(getattr(Conversation, field_name))
    value = getattr(cursor, field_name)
    if descending:
        return or_(field < value, and_(field == value, col(Conversation.id) < cursor.id))
    return or_(field > value, and_(field == value, col(Conversation.id) > cursor.id))


async def list_page(
    app_id: str, user: str | None, last_id: str | None, limit: int, sort_by: str
) -> ConversationPage:
    end_user = await end_users.find(app_id, user)
    if end_user is None:
        return ConversationPage(limit=limit, has_more=False, data=[])
    descending = sort_by.startswith("-")
    field_name = sort_by.lstrip("-")
    field = col(getattr(Conversation, field_name))
    async with read_scope() as session:
        statement = _owned(app_id, end_user.id)
        if last_id:
            cursor = (await session.exec(statement.where(Conversation.id == last_id))).first()
            if cursor is None:
                raise NotFound("Last Conversation Not Exists.")
            statement = statement.where(_beyond(cursor, field_name, descending))
        if descending:
            order = (field.desc(), col(Conversation.id).desc())
        else:
            order = (field.asc(), col(Conversation.id).asc())
        rows = list((await session.exec(statement.order_by(*order).limit(limit + 1))).all())
    has_more = len(rows) > limit
    return ConversationPage(
        limit=limit, has_more=has_more, data=[ConversationItem.of(r) for r in rows[:limit]]
    )


async def find_owned(app_id: str, user: str | None, conversation_id: str) -> Conversation:
    end_user_id = await end_user_id_or_404(app_id, user)
    async with session_scope(read_only=True) as session:
        return await get_owned(session, app_id, end_user_id, conversation_id)


async def rename(app_id: str, user: str | None, conversation_id: str, name: str) -> Conversation:
    """A manual rename; as Dify, it bumps `updated_at`."""
    end_user_id = await end_user_id_or_404(app_id, user)
    async with session_scope() as session:
        conversation = await get_owned(session, app_id, end_user_id, conversation_id)
        conversation.name = name
        conversation.updated_at = utcnow()
        session.add(conversation)
    return conversation


async def set_generated_name(conversation_id: str, name: str, only_if: str | None = None) -> bool:
    """Store a generated title (never touches `updated_at`, as Dify). With `only_if`, only
    while the name is still that value, so a manual rename made meanwhile wins."""
    statement = update(Conversation).where(
        col(Conversation.id) == conversation_id, col(Conversation.is_deleted).is_(False)
    )
    if only_if is not None:
        statement = statement.where(col(Conversation.name) == only_if)
    async with session_scope(background=True) as session:  # one statement, no read first
        result = await session.exec(statement.values(name=name))
    return bool(result.rowcount)


async def first_query(conversation_id: str) -> str | None:
    async with session_scope(read_only=True) as session:
        statement = (
            select(Message.query)
            .where(Message.conversation_id == conversation_id)
            .order_by(col(Message.created_at).asc(), col(Message.id).asc())
            .limit(1)
        )
        return (await session.exec(statement)).first()


async def delete_owned(app_id: str, user: str | None, conversation_id: str) -> None:
    """Ownership check (404), then the conversation and everything hanging off it go in
    one transaction: its messages can never be listed or referenced again."""
    end_user_id = await end_user_id_or_404(app_id, user)
    async with session_scope() as session:
        conversation = await get_owned(session, app_id, end_user_id, conversation_id)
        message_ids = select(Message.id).where(Message.conversation_id == conversation.id)
        await session.exec(
            delete(MessageFeedback).where(col(MessageFeedback.conversation_id) == conversation.id)
        )
        await session.exec(delete(MessageFile).where(col(MessageFile.message_id).in_(message_ids)))
        await session.exec(
            delete(MessageAgentThought).where(col(MessageAgentThought.message_id).in_(message_ids))
        )
        await session.exec(
            delete(ConversationVariable).where(
                col(ConversationVariable.conversation_id) == conversation.id
            )
        )
        await session.exec(delete(Message).where(col(Message.conversation_id) == conversation.id))
        await session.exec(delete(Conversation).where(col(Conversation.id) == conversation.id))
