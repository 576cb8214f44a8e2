"""Likes and dislikes of end users on their messages, and the app's feedback list."""

from sqlmodel import col, select

from app.core.db import page_offset, read_scope, session_scope
from app.core.errors import InvalidParam
from app.models import MessageFeedback
from app.models.base import utcnow
from app.schemas.feedback import FeedbackItem, FeedbackList
from app.services.conversations.message_access import owned_message

USER_SOURCE = "user"


async def submit(
    app_id: str, user: str | None, message_id: str, rating: str | None, content: str | None
) -> None:
    """Dify's semantics: a rating creates or overwrites the end user's feedback (content
    too); no rating revokes it, and revoking nothing is an error."""
    message = await owned_message(app_id, user, message_id)
    async with session_scope() as session:
        statement = select(MessageFeedback).where(
            MessageFeedback.message_id == message.id,
            MessageFeedback.from_source == USER_SOURCE,
            MessageFeedback.from_end_user_id == message.from_end_user_id,
        )
        feedback = (await session.exec(statement)).first()
        if not rating:
            if feedback is None:
                raise InvalidParam("rating cannot be None when feedback not exists")
            await session.delete(feedback)
            return
        if feedback is None:
            feedback = MessageFeedback(
                app_id=app_id,
                conversation_id=message.conversation_id,
                message_id=message.id,
                rating=rating,
                content=content,
                from_source=USER_SOURCE,
                from_end_user_id=message.from_end_user_id,
            )
        else:
            feedback.rating = rating
            feedback.content = content
            feedback.updated_at = utcnow()
        session.add(feedback)


async def ratings_for(end_user_id: str, message_ids: list[str]) -> dict[str, str]:
    """The end user's rating of each listed message, in one query."""
    if not message_ids:
        return {}
    async with read_scope() as session:
        statement = select(MessageFeedback.message_id, MessageFeedback.rating).where(
            col(MessageFeedback.message_id).in_(message_ids),
            MessageFeedback.from_source == USER_SOURCE,
            MessageFeedback.from_end_user_id == end_user_id,
        )
        rows = (await session.exec(statement)).all()
    return {str(message_id): str(rating) for message_id, rating in rows}


async def app_feedbacks(app_id: str, page: int, limit: int) -> FeedbackList:
    """Every feedback of the app (user and admin), newest first, offset-paged."""
    async with read_scope() as session:
        statement = (
            select(MessageFeedback)
            .where(MessageFeedback.app_id == app_id)
            .order_by(col(MessageFeedback.created_at).desc(), col(MessageFeedback.id).desc())
            .offset(page_offset(page, limit))
            .limit(limit)
        )
        rows = (await session.exec(statement)).all()
    return FeedbackList(data=[FeedbackItem.of(row) for row in rows])
