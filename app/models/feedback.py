"""Likes and dislikes on messages."""

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from app.models.base import id_field, utcnow


class MessageFeedback(SQLModel, table=True):
    __tablename__ = "message_feedbacks"
    __table_args__ = (
        Index("ix_message_feedbacks_app_created", "app_id", "created_at"),
        Index("ix_message_feedbacks_message", "message_id", "from_end_user_id"),
    )

    id: str = id_field()
    app_id: str = Field(foreign_key="apps.id", max_length=36, ondelete="CASCADE")
    conversation_id: str = Field(foreign_key="conversations.id", max_length=36, ondelete="CASCADE")
    message_id: str = Field(foreign_key="messages.id", max_length=36, ondelete="CASCADE")
    rating: str = Field(max_length=16)  # like | dislike
    content: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    from_source: str = Field(default="user", max_length=16)  # user | admin
    from_end_user_id: str | None = Field(default=None, max_length=36)
    from_account_id: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
