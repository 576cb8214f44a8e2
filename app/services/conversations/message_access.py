"""The one rule for reaching a message by id: this app's, asked through the Service API by
this end user, in a conversation that still exists (else 404 "Message Not Exists.")."""

from sqlmodel import col, select

from app.core.db import read_scope
from app.core.errors import NotFound
from app.models import Conversation, Message
from app.services.end_users import lookup as end_users

MESSAGE_NOT_EXISTS = "Message Not Exists."


async def owned_message(app_id: str, user: str | None, message_id: str) -> Message:
    """A message of this app asked through the Service API by this end user (else 404)."""
    end_user = await end_users.find(app_id, user)
    if end_user is None:
        raise NotFound(MESSAGE_NOT_EXISTS)
    async with read_scope() as session:
        statement = (
            select(Message)
            .join(Conversation, col(Conversation.id) == col(Message.conversation_id))
            .where(
                Message.id == message_id,
                Message.app_id == app_id,
                Message.from_source == "api",
                Message.from_end_user_id == end_user.id,
                col(Conversation.is_deleted).is_(False),
            )
        )
        message = (await session.exec(statement)).first()
    if message is None:
        raise NotFound(MESSAGE_NOT_EXISTS)
    return message
