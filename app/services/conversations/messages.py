"""Message history of a conversation: newest first with a limit+1 probe, returned oldest
first, paged backwards with `first_id`."""

import asyncio

from sqlmodel import col, select

from app.core.db import read_scope
from app.core.errors import NotFound
from app.models import Message
from app.schemas.conversation import MessageItem, MessagePage
from app.services.conversations import feedback
from app.services.conversations.agent_thoughts import thoughts_for
from app.services.conversations.crud import get_owned
from app.services.end_users import lookup as end_users
from app.services.files.message_files import message_files_for


async def list_page(
    app_id: str, user: str | None, conversation_id: str, first_id: str | None, limit: int
) -> MessagePage:
    if not conversation_id:
        return MessagePage(limit=limit, has_more=False, data=[])
    end_user = await end_users.find(app_id, user)
    if end_user is None:
        raise NotFound("Conversation Not Exists.")
    async with read_scope() as session:
        conversation = await get_owned(session, app_id, end_user.id, conversation_id)
        statement = select(Message).where(Message.conversation_id == conversation.id)
        if first_id:
            first = (await session.exec(statement.where(Message.id == first_id))).first()
            if first is None:
                raise NotFound("First Message Not Exists.")
            statement = statement.where(col(Message.created_at) < first.created_at)
        statement = statement.order_by(col(Message.created_at).desc()).limit(limit + 1)
        rows = list((await session.exec(statement)).all())
    has_more = len(rows) > limit
    rows = rows[:limit]
    rows.reverse()
    # Ratings, message_files and agent_thoughts for the whole page: one query each, side by
    # side on the read pool (a busy process takes a while to get back to each answer).
    ids = [r.id for r in rows]
    ratings, files, thoughts = await asyncio.gather(
        feedback.ratings_for(end_user.id, ids), message_files_for(ids), thoughts_for(ids)
    )
    data = [MessageItem.of(r, {"rating": ratings[r.id]} if r.id in ratings else None) for r in rows]
    for item in data:
        item.message_files = files.get(item.id, [])
        item.agent_thoughts = thoughts.get(item.id, [])
    return MessagePage(limit=limit, has_more=has_more, data=data)
