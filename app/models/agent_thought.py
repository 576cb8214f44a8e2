"""The steps of an agent-chat answer (Dify's `message_agent_thoughts`)."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from app.models.base import id_field, json_field, utcnow


class MessageAgentThought(SQLModel, table=True):
    __tablename__ = "message_agent_thoughts"
    __table_args__ = (Index("ix_message_agent_thoughts_message", "message_id", "position"),)

    id: str = id_field()
    message_id: str = Field(foreign_key="messages.id", max_length=36, ondelete="CASCADE")
    message_chain_id: str | None = Field(default=None, max_length=36)
    position: int
    thought: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    tool: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    tool_labels: dict[str, Any] = json_field()
    tool_input: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    observation: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    message_files: list[str] = json_field(list)  # ids of files the step produced
    tokens: int = 0
    created_at: datetime = Field(default_factory=utcnow)
