"""Per-conversation variables (advanced-chat apps declare them; classic apps have none)."""

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.models.base import json_field, utcnow


class ConversationVariable(SQLModel, table=True):
    __tablename__ = "conversation_variables"
    __table_args__ = (Index("ix_conversation_variables_created", "conversation_id", "created_at"),)

    # The declared variable's id, shared by every conversation of the app.
    id: str = Field(primary_key=True, max_length=36)
    conversation_id: str = Field(
        foreign_key="conversations.id", primary_key=True, max_length=36, ondelete="CASCADE"
    )
    app_id: str = Field(foreign_key="apps.id", max_length=36, ondelete="CASCADE")
    name: str = Field(max_length=255)
    value_type: str = Field(max_length=32)
    value: Any = json_field(default_factory=lambda: None)
    description: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
