"""Conversations and their messages."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from app.models.base import id_field, json_field, utcnow


class Conversation(SQLModel, table=True):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_owner", "app_id", "from_end_user_id", "is_deleted"),)

    id: str = id_field()
    app_id: str = Field(foreign_key="apps.id", max_length=36, ondelete="CASCADE")
    from_end_user_id: str = Field(foreign_key="end_users.id", max_length=36, ondelete="CASCADE")
    from_source: str = Field(default="api", max_length=16)
    invoke_from: str = Field(default="service-api", max_length=32)
    mode: str = Field(max_length=32)
    name: str = Field(default="New conversation", max_length=255)
    inputs: dict[str, Any] = json_field()
    introduction: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    status: str = Field(default="normal", max_length=16)
    dialogue_count: int = 0
    is_deleted: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_created", "conversation_id", "created_at"),
        Index("ix_messages_running", "is_running"),
    )

    id: str = id_field()
    app_id: str = Field(foreign_key="apps.id", max_length=36, ondelete="CASCADE")
    conversation_id: str = Field(foreign_key="conversations.id", max_length=36, ondelete="CASCADE")
    from_end_user_id: str = Field(foreign_key="end_users.id", max_length=36, ondelete="CASCADE")
    from_source: str = Field(default="api", max_length=16)
    invoke_from: str = Field(default="service-api", max_length=32)
    parent_message_id: str | None = Field(default=None, max_length=36)
    inputs: dict[str, Any] = json_field()
    query: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    answer: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    model_provider: str | None = Field(default=None, max_length=255)
    model_id: str | None = Field(default=None, max_length=255)
    message_tokens: int = 0
    answer_tokens: int = 0
    total_price: str = Field(default="0", max_length=32)
    currency: str = Field(default="USD", max_length=8)
    provider_response_latency: float = 0.0
    status: str = Field(default="normal", max_length=16)
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    message_metadata: dict[str, Any] = json_field()
    task_id: str | None = Field(default=None, max_length=36)
    workflow_run_id: str | None = Field(default=None, max_length=36)  # advanced-chat
    # Liveness of an in-flight generation, so a reaper can close what a dead process left.
    is_running: bool = False
    worker_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
